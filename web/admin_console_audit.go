package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/gin-gonic/gin"

	adminsvc "github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/storage"
)

// auditPageSize is the audit timeline's page length.
const auditPageSize = 50

// auditPage is the audit timeline's filter and one page of events.
type auditPage struct {
	ClientID, WebsiteID, Kind, Since, Until string
	Events                                  []pageEvent
	Next                                    string // link to the next (older) page
	First                                   string // link to the newest page
	Paged                                   bool
	Kinds                                   []string // suggested in the kind filter
}

// localMinute is what an <input type="datetime-local"> sends.
var localMinute = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$`)

// auditPage is GET /admin/audit?client_id=&website_id=&kind=&since=&until=
// &after=: the audit trail newest first, filtered and paged as the API's
// GET /admin/v1/audit (the same filter reading). Times are UTC.
func (a *admin) auditPage(c *gin.Context) {
	d, ok := a.begin(c, "Audit")
	if !ok {
		return
	}
	q := c.Request.URL.Query()
	p := auditPage{ClientID: q.Get("client_id"), WebsiteID: q.Get("website_id"), Kind: q.Get("kind"),
		Since: q.Get("since"), Until: q.Get("until"), Kinds: storage.AuditKinds()}
	api := url.Values{}
	for _, kv := range [][2]string{{"client_id", p.ClientID}, {"website_id", p.WebsiteID}, {"kind", p.Kind}, {"since", p.Since}, {"until", p.Until}} {
		v := kv[1]
		if (kv[0] == "since" || kv[0] == "until") && localMinute.MatchString(v) {
			v += ":00Z"
		}
		if v != "" {
			api.Set(kv[0], v)
		}
	}
	page := api.Encode()
	if after := q.Get("after"); after != "" {
		api.Set("after", after)
		p.Paged = true
	}
	api.Set("limit", strconv.Itoa(auditPageSize))
	filter, bad := auditFilter(api)
	if len(bad) > 0 {
		a.consoleFail(c, d, adminsvc.Invalid(bad), "event")
		return
	}
	evs, err := a.svc.Events(c.Request.Context(), filter)
	if err != nil {
		a.consoleFail(c, d, err, "event")
		return
	}
	for _, e := range evs {
		p.Events = append(p.Events, viewEvent(e))
	}
	p.First = "/admin/audit?" + page
	if len(evs) == auditPageSize {
		nq, _ := url.ParseQuery(page)
		nq.Set("after", evs[len(evs)-1].ID)
		p.Next = "/admin/audit?" + nq.Encode()
	}
	d.Audit = p
	a.render(c, http.StatusOK, "admin_audit.html", d)
}
