package web

import (
	"net/http"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	adminsvc "github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/web/adminapi"
)

// maxClientRows bounds the clients list; a search narrows it.
const maxClientRows = 200

// clientDetail is the client page: the client, its approved maximum with
// the review lines that granted each scope, secrets, live grants, events.
type clientDetail struct {
	adminapi.Client
	Approved   []approvedScope
	Secrets    []secretRow
	LiveGrants int
	Grants     []grantRow
	Events     []pageEvent
	Suspended  bool
	Public     bool
}

type approvedScope struct {
	pageLine
	Granted []grantedBy
}

// grantedBy is a review line that approved a scope.
type grantedBy struct {
	ReviewID, Justification, Reviewer, Note, Decided string
}

type secretRow struct {
	Current          bool
	Created, Expires string
}

type grantRow struct {
	ID, WebsiteID, Created, Scopes string
}

// approvedLines turns scope strings into page lines with their catalogue
// description, kind and permission.
func approvedLines(ss []string) []pageLine {
	out := make([]pageLine, 0, len(ss))
	for _, s := range ss {
		sc, err := scopes.ParseScope(s)
		if err != nil {
			continue
		}
		l := adminapi.ReviewLine{Scope: s, Permission: sc.Perm.String()}
		if def, ok := scopes.Lookup(sc.Name); ok {
			l.Description, l.Kind = def.Sentence(sc.Perm), def.Kind.String()
		}
		out = append(out, pageLine{ReviewLine: l, WriteOnly: sc.Perm == scopes.Write})
	}
	return out
}

// clientsPage is GET /admin/clients?q=&status=: every client matching the
// search (name or ID, any case) with its live grants count.
func (a *admin) clientsPage(c *gin.Context) {
	d, ok := a.begin(c, "Clients")
	if !ok {
		return
	}
	q := c.Request.URL.Query()
	d.Query, d.StatusQ = strings.TrimSpace(q.Get("q")), q.Get("status")
	if len(d.Query) > 200 {
		d.Query = d.Query[:200]
	}
	ctx := c.Request.Context()
	cs, err := a.svc.ListClients(ctx)
	if err != nil {
		a.consoleFail(c, d, err, "client")
		return
	}
	sort.Slice(cs, func(i, j int) bool {
		if ni, nj := strings.ToLower(cs[i].Name), strings.ToLower(cs[j].Name); ni != nj {
			return ni < nj
		}
		return cs[i].ID < cs[j].ID
	})
	needle := strings.ToLower(d.Query)
	for _, cl := range cs {
		if needle != "" && !strings.Contains(strings.ToLower(cl.Name), needle) && !strings.Contains(strings.ToLower(cl.ID), needle) {
			continue
		}
		if (d.StatusQ == "active" || d.StatusQ == "suspended") && string(cl.Status) != d.StatusQ {
			continue
		}
		if len(d.Clients) == maxClientRows {
			d.More = true
			break
		}
		gs, err := a.svc.ListGrants(ctx, cl.ID, "")
		if err != nil {
			a.consoleFail(c, d, err, "grant")
			return
		}
		d.Clients = append(d.Clients, clientRow{ID: cl.ID, Name: cl.Name, Role: string(cl.Role), Type: string(cl.Type),
			Status: string(cl.Status), Approved: approvedLines(cl.Approved.Strings()), LiveGrants: len(gs)})
	}
	a.render(c, http.StatusOK, "admin_clients.html", d)
}

// beginClient opens a console request about client :id; false when it
// has answered (not signed in, or no such client ID can exist).
func (a *admin) beginClient(c *gin.Context) (consoleData, string, bool) {
	d, ok := a.begin(c, "Client")
	if !ok {
		return d, "", false
	}
	id := c.Param("id")
	if !validRef(id) {
		a.consoleFail(c, d, adminsvc.NotFound("client"), "client")
		return d, "", false
	}
	return d, id, true
}

// clientPage is GET /admin/clients/:id.
func (a *admin) clientPage(c *gin.Context) {
	d, id, ok := a.beginClient(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	cl, err := a.svc.GetClient(ctx, id)
	if err != nil {
		a.consoleFail(c, d, err, "client")
		return
	}
	rs, err := a.svc.ListReviews(ctx, adminsvc.ReviewsAll, id)
	if err != nil {
		a.consoleFail(c, d, err, "review")
		return
	}
	gs, err := a.svc.ListGrants(ctx, id, "")
	if err != nil {
		a.consoleFail(c, d, err, "grant")
		return
	}
	evs, err := a.svc.Events(ctx, storage.EventFilter{ClientID: id, Limit: 10})
	if err != nil {
		a.consoleFail(c, d, err, "event")
		return
	}
	d.Title = cl.Name
	d.Notice = doneNotices[c.Query("done")]
	det := clientDetail{Client: a.viewClient(cl), LiveGrants: len(gs), Suspended: cl.Status == storage.Suspended,
		Public: cl.Type == storage.Public}
	for _, l := range approvedLines(cl.Approved.Strings()) {
		as := approvedScope{pageLine: l}
		for _, r := range rs {
			for _, rl := range r.Lines {
				if rl.Scope == l.Scope && rl.Status == storage.LineApproved {
					as.Granted = append(as.Granted, grantedBy{ReviewID: r.ID, Justification: rl.Justification,
						Reviewer: rl.Reviewer, Note: rl.Note, Decided: fmtTime(rl.DecidedAt)})
				}
			}
		}
		det.Approved = append(det.Approved, as)
	}
	now := a.now()
	for _, h := range cl.Secrets {
		if !h.ExpiresAt.IsZero() && !now.Before(h.ExpiresAt) {
			continue
		}
		det.Secrets = append(det.Secrets, secretRow{Current: h.ExpiresAt.IsZero(), Created: fmtTime(h.CreatedAt), Expires: fmtTime(h.ExpiresAt)})
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].CreatedAt.After(gs[j].CreatedAt) })
	for i, g := range gs {
		if i == 10 {
			break
		}
		det.Grants = append(det.Grants, grantRow{ID: g.ID, WebsiteID: g.WebsiteID, Created: fmtTime(g.CreatedAt), Scopes: g.Scopes.String()})
	}
	for _, e := range evs {
		det.Events = append(det.Events, viewEvent(e))
	}
	d.Detail = det
	a.render(c, http.StatusOK, "admin_client.html", d)
}

// doneNotices confirm an action after its redirect back to the client.
var doneNotices = map[string]string{
	"suspend": "Suspended: every token of this client is inactive now.",
	"resume":  "Resumed: the client's unexpired tokens are active again.",
	"maximum": "Approved maximum lowered: live tokens lost the removed scopes.",
}

// graceChoices are the rotate form's grace periods, in seconds (the
// template offers the same).
var graceChoices = []int{0, 3600, 86400, int(adminsvc.MaxGrace / time.Second)}

// clientAction is POST /admin/clients/:id/{suspend,resume,maximum,rotate,
// revoke,delete}, each calling the admin API's own function.
func (a *admin) clientAction(c *gin.Context) {
	d, id, ok := a.beginClient(c)
	if !ok {
		return
	}
	ctx, f := c.Request.Context(), c.Request.PostForm
	back := "/admin/clients/" + id
	switch action := path.Base(c.FullPath()); action {
	case "suspend", "resume":
		set := a.svc.Suspend
		if action == "resume" {
			set = a.svc.Resume
		}
		if _, err := set(ctx, actor(c), id); err != nil {
			a.consoleFail(c, d, err, "client")
			return
		}
		c.Redirect(http.StatusSeeOther, back+"?done="+action)
	case "maximum":
		// The ticked boxes are the new maximum; it may only narrow.
		keep := slices.Compact(slices.Sorted(slices.Values(f["scope"])))
		if len(keep) > 70 {
			keep = keep[:70]
		}
		if _, err := a.svc.SetMaximum(ctx, actor(c), id, keep); err != nil {
			a.consoleFail(c, d, err, "client")
			return
		}
		c.Redirect(http.StatusSeeOther, back+"?done=maximum")
	case "rotate":
		grace, err := strconv.Atoi(f.Get("grace_seconds"))
		if err != nil || !slices.Contains(graceChoices, grace) {
			a.consoleFail(c, d, adminsvc.Invalid(map[string]string{"grace_seconds": "must be one of the offered grace periods"}), "client")
			return
		}
		r, err := a.svc.RotateSecret(ctx, actor(c), id, time.Duration(grace)*time.Second)
		if err != nil {
			a.consoleFail(c, d, err, "client")
			return
		}
		d.Title = "New secret"
		d.Result = &actionResult{Title: "New client secret", Secret: r.Secret, Until: fmtTime(r.OldSecretsExpireAt), ClientID: id,
			Message: "Copy it now: it is shown once and only its hash is stored."}
		a.render(c, http.StatusOK, "admin_result.html", d)
	case "revoke":
		n, err := a.svc.Revoke(ctx, actor(c), adminsvc.Target{ClientID: id}, "")
		if err != nil {
			a.consoleFail(c, d, err, "client")
			return
		}
		d.Title = "Client's grants revoked"
		d.Result = &actionResult{Title: "Every grant revoked", Counts: &n, ClientID: id,
			Message: "Every grant of " + id + " is revoked. The client can still get new tokens unless you suspend it."}
		a.render(c, http.StatusOK, "admin_result.html", d)
	case "delete":
		cl, err := a.svc.GetClient(ctx, id)
		if err != nil {
			a.consoleFail(c, d, err, "client")
			return
		}
		if typed := strings.TrimSpace(f.Get("confirm")); typed == "" || (typed != cl.ID && typed != cl.Name) {
			a.consoleFail(c, d, adminsvc.Invalid(map[string]string{"confirm": "must be the client's name or ID, typed exactly"}), "client")
			return
		}
		n, err := a.svc.DeleteClient(ctx, actor(c), id)
		if err != nil {
			a.consoleFail(c, d, err, "client")
			return
		}
		d.Title = "Client deleted"
		d.Result = &actionResult{Title: "Client deleted", Counts: &n,
			Message: cl.Name + " (" + id + ") is deleted and every grant it held is revoked."}
		a.render(c, http.StatusOK, "admin_result.html", d)
	}
}
