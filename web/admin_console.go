package web

import (
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	adminsvc "github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/web/adminapi"
)

// The admin console: the overview with the kill switch (/admin), clients
// (/admin/clients), the audit timeline (/admin/audit), beside the review
// queue. Server-rendered like the review page, behind the same admin
// session; every POST carries the session's CSRF field and passes the
// cross-origin guard. Every action calls the same service method
// (oauth/admin) as the admin API, so it is checked and audited the same
// way.

// consoleData is what the console templates get, beyond pageData.
type consoleData struct {
	pageData
	Notice      string
	Pending     int
	Suspended   []clientRow
	Revocations []pageEvent
	LeakReports []pageEvent
	Query       string
	StatusQ     string
	Clients     []clientRow
	More        bool
	Detail      clientDetail
	Lookup      *tokenLookup
	Result      *actionResult
	Audit       auditPage
}

// clientRow is one line of the clients list.
type clientRow struct {
	ID, Name, Role, Type, Status string
	Approved                     []pageLine
	LiveGrants                   int
}

// actionResult is what an action page reports: what was done, the counts
// revoked, and (once) a new secret.
type actionResult struct {
	Title    string
	Message  string
	Counts   *storage.Revocation
	Secret   string
	Until    string
	ClientID string
}

func (a *admin) consoleRoutes(e *gin.Engine) {
	e.GET("/admin", a.overview)
	e.POST("/admin/kill/lookup", a.killLookup)
	e.POST("/admin/kill/grant", a.killer("Grant revoked", "grant", func(id string) string {
		return "Grant " + id + " is revoked: its codes, access and refresh tokens are inactive now."
	}))
	e.POST("/admin/kill/website", a.killer("Website's grants revoked", "website", func(id string) string {
		return "Every plugin's grant on website " + id + " is revoked."
	}))
	e.GET("/admin/clients", a.clientsPage)
	e.GET("/admin/clients/:id", a.clientPage)
	e.POST("/admin/clients/:id/suspend", a.clientAction)
	e.POST("/admin/clients/:id/resume", a.clientAction)
	e.POST("/admin/clients/:id/maximum", a.clientAction)
	e.POST("/admin/clients/:id/rotate", a.clientAction)
	e.POST("/admin/clients/:id/revoke", a.clientAction)
	e.POST("/admin/clients/:id/delete", a.clientAction)
	e.GET("/admin/audit", a.auditPage)
}

// consoleFormRoutes are the console's form actions (the CSRF and
// cross-origin tests go over every one).
var consoleFormRoutes = []string{
	"/admin/kill/lookup", "/admin/kill/grant", "/admin/kill/website",
	"/admin/clients/:id/suspend", "/admin/clients/:id/resume", "/admin/clients/:id/maximum",
	"/admin/clients/:id/rotate", "/admin/clients/:id/revoke", "/admin/clients/:id/delete",
}

// begin checks the admin session (and, for a POST, the form's CSRF field)
// and returns the data every console page starts from.
func (a *admin) begin(c *gin.Context, title string) (consoleData, bool) {
	s, _, ok := a.session(c)
	if !ok {
		return consoleData{}, false
	}
	if c.Request.Method == http.MethodPost && !a.postForm(c, s) {
		return consoleData{}, false
	}
	return consoleData{pageData: pageData{Title: title, CSRF: s.CSRF, Actor: s.OperatorID}}, true
}

// consoleFail answers a failed action or read with an error page: the
// same cases as the API's fail, in words. what names the record when the
// error does not.
func (a *admin) consoleFail(c *gin.Context, d consoleData, err error, what string) {
	var e *adminsvc.Error
	if errors.As(err, &e) && e.What != "" {
		what = e.What
	}
	status, msg := http.StatusInternalServerError, "Internal error; the server log has the cause."
	switch {
	case errors.Is(err, adminsvc.ErrNotAToken):
		status, msg = http.StatusBadRequest, "That is not a scopegate token (sga_, sgr_ or sgc_ followed by 71 characters with a valid checksum). Nothing was revoked."
	case errors.Is(err, adminsvc.ErrInvalid) && len(e.Fields) > 0:
		parts := make([]string, 0, len(e.Fields))
		for k, v := range e.Fields {
			parts = append(parts, k+" "+v)
		}
		sort.Strings(parts)
		status, msg = http.StatusBadRequest, "Not changed: "+strings.Join(parts, "; ")+"."
	case errors.Is(err, adminsvc.ErrInvalid):
		status, msg = http.StatusBadRequest, "Not changed: "+e.Description+"."
	case errors.Is(err, adminsvc.ErrPublicClient):
		status, msg = http.StatusConflict, "Public clients have no secret to rotate."
	case errors.Is(err, adminsvc.ErrNotFound):
		status, msg = http.StatusNotFound, "No such "+what+"."
	case errors.Is(err, adminsvc.ErrConflict):
		status, msg = http.StatusConflict, "Someone changed it at the same time; reload and try again."
	case errors.Is(err, storage.ErrUnavailable):
		c.Header("Retry-After", "1")
		status, msg = http.StatusServiceUnavailable, "Storage is unavailable; try again."
	default:
		a.log.Error("admin console: internal error", "path", c.FullPath(), "err", err)
	}
	a.pageError(c, status, http.StatusText(status), msg, d.pageData)
}

// overview is GET /admin: the first screen after sign-in.
func (a *admin) overview(c *gin.Context) {
	d, ok := a.begin(c, "Overview")
	if !ok {
		return
	}
	ctx := c.Request.Context()
	rs, err := a.svc.ListReviews(ctx, adminsvc.ReviewsPending, "")
	if err != nil {
		a.consoleFail(c, d, err, "review")
		return
	}
	d.Pending = len(rs)
	cs, err := a.svc.ListClients(ctx)
	if err != nil {
		a.consoleFail(c, d, err, "client")
		return
	}
	for _, cl := range cs {
		if cl.Status == storage.Suspended {
			d.Suspended = append(d.Suspended, clientRow{ID: cl.ID, Name: cl.Name, Role: string(cl.Role), Status: string(cl.Status)})
		}
	}
	sort.Slice(d.Suspended, func(i, j int) bool { return d.Suspended[i].Name < d.Suspended[j].Name })
	var revs []storage.Event
	for _, kind := range []string{storage.KindRevokeToken, storage.KindRevokeGrant, storage.KindRevokeClient, storage.KindRevokeWebsite, storage.KindClientDeleted} {
		evs, err := a.svc.Events(ctx, storage.EventFilter{Kind: kind, Limit: 10})
		if err != nil {
			a.consoleFail(c, d, err, "event")
			return
		}
		revs = append(revs, evs...)
	}
	d.Revocations = newestEvents(revs, 10)
	leaks, err := a.svc.Events(ctx, storage.EventFilter{Kind: storage.KindGrantRevoked, Limit: 100})
	if err != nil {
		a.consoleFail(c, d, err, "event")
		return
	}
	var reports []storage.Event
	for _, e := range leaks {
		if e.Actor == "leak-report" {
			reports = append(reports, e)
		}
	}
	d.LeakReports = newestEvents(reports, 10)
	a.render(c, http.StatusOK, "admin_overview.html", d)
}

// newestEvents sorts events newest first and keeps n as page events.
func newestEvents(evs []storage.Event, n int) []pageEvent {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.After(evs[j].Time) })
	if len(evs) > n {
		evs = evs[:n]
	}
	out := make([]pageEvent, len(evs))
	for i, e := range evs {
		out[i] = viewEvent(e)
	}
	return out
}

// viewEvent is an audit event as the pages show it, details sorted.
func viewEvent(e storage.Event) pageEvent {
	return pageEvent{Time: fmtTime(e.Time), Kind: e.Kind, Actor: e.Actor, Detail: adminapi.DetailText(e.Detail),
		ClientID: e.ClientID, WebsiteID: e.WebsiteID, GrantID: e.GrantID}
}
