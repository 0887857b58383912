package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	adminsvc "github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
	"github.com/scopegate/scopegate/web/adminapi"
)

// The review pages: the queue of pending scope requests
// (/admin/review), a decision on one line, and a client's history.

func pageLines(rv adminapi.Review) []pageLine {
	out := make([]pageLine, len(rv.Lines))
	for i, l := range rv.Lines {
		pl := pageLine{ReviewLine: l, Pending: l.Status == string(storage.LinePending)}
		if l.DecidedAt != nil {
			pl.Decided = fmtTime(*l.DecidedAt)
		}
		if sc, err := scopes.ParseScope(l.Scope); err == nil && sc.Perm == scopes.Write {
			pl.WriteOnly = true
		}
		out[i] = pl
	}
	return out
}

// reviewQueue is GET /admin/review: every pending request, oldest first.
func (a *admin) reviewQueue(c *gin.Context) {
	s, _, ok := a.session(c)
	if !ok {
		return
	}
	d := pageData{Title: "Review queue", CSRF: s.CSRF, Actor: s.OperatorID}
	ctx := c.Request.Context()
	rs, err := a.svc.ListReviews(ctx, adminsvc.ReviewsPending, "")
	if err != nil {
		a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", d)
		return
	}
	names := map[string]storage.Client{}
	for _, r := range rs {
		cl, ok := names[r.ClientID]
		if !ok {
			cl, err = a.svc.GetClient(ctx, r.ClientID)
			if errors.Is(err, adminsvc.ErrNotFound) {
				cl = storage.Client{ID: r.ClientID, Name: "(deleted client)", Status: "deleted"}
			} else if err != nil {
				a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", d)
				return
			}
			names[r.ClientID] = cl
		}
		rv := viewReview(r)
		d.Reviews = append(d.Reviews, pageReview{Review: rv, ClientName: cl.Name, ClientStatus: string(cl.Status),
			Created: fmtTime(r.CreatedAt), Lines: pageLines(rv)})
	}
	a.render(c, http.StatusOK, "review.html", d)
}

// reviewDecide is POST /admin/review/decide (fields csrf, review, line,
// decision approve|reject, note), then back to the queue.
func (a *admin) reviewDecide(c *gin.Context) {
	s, _, ok := a.session(c)
	if !ok || !a.postForm(c, s) {
		return
	}
	d := pageData{CSRF: s.CSRF, Actor: s.OperatorID}
	f := c.Request.PostForm
	decision, reviewID := f.Get("decision"), f.Get("review")
	if (decision != "approve" && decision != "reject") || len(reviewID) != token.GrantLen || !idPattern.MatchString(reviewID) {
		a.pageError(c, http.StatusBadRequest, "Bad request", "Choose Approve or Reject for a line of a review.", d)
		return
	}
	note := f.Get("note")
	if !validNote(note) {
		a.pageError(c, http.StatusBadRequest, "Bad request", "The note must be at most 1000 printable characters.", d)
		return
	}
	_, _, err := a.svc.Decide(c.Request.Context(), actor(c), reviewID, lineParam(f.Get("line")), decision == "approve", note)
	var e *adminsvc.Error
	errors.As(err, &e)
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/admin/review#review-"+reviewID)
	case errors.Is(err, adminsvc.ErrNotFound) && e.What == "review":
		a.pageError(c, http.StatusNotFound, "Not found", "No such review.", d)
	case errors.Is(err, adminsvc.ErrNotFound) && e.What == "line":
		a.pageError(c, http.StatusNotFound, "Cannot decide", e.Description+".", d)
	case errors.Is(err, adminsvc.ErrConflict) && e.What == "line":
		a.pageError(c, http.StatusConflict, "Cannot decide", e.Description+".", d)
	default:
		a.log.Warn("admin page: decide", "err", err)
		a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", d)
	}
}

// clientHistory is GET /admin/review/clients/:id: the client, its approved
// maximum, every review with its decisions, and recent audit events.
func (a *admin) clientHistory(c *gin.Context) {
	s, _, ok := a.session(c)
	if !ok {
		return
	}
	d := pageData{CSRF: s.CSRF, Actor: s.OperatorID}
	id := c.Param("id")
	ctx := c.Request.Context()
	if !validRef(id) {
		a.pageError(c, http.StatusNotFound, "Not found", "No such client.", d)
		return
	}
	cl, err := a.svc.GetClient(ctx, id)
	if errors.Is(err, adminsvc.ErrNotFound) {
		a.pageError(c, http.StatusNotFound, "Not found", "No such client.", d)
		return
	}
	if err != nil {
		a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", d)
		return
	}
	rs, err := a.svc.ListReviews(ctx, adminsvc.ReviewsAll, id)
	if err != nil {
		a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", d)
		return
	}
	evs, err := a.svc.Events(ctx, storage.EventFilter{ClientID: id, Limit: 50})
	if err != nil {
		a.pageError(c, http.StatusServiceUnavailable, "Unavailable", "Storage is unavailable; try again.", d)
		return
	}
	d.Title, d.Client = "History of "+cl.Name, a.viewClient(cl)
	d.Approved = approvedLines(cl.Approved.Strings())
	for _, r := range rs {
		rv := viewReview(r)
		d.Reviews = append(d.Reviews, pageReview{Review: rv, Created: fmtTime(r.CreatedAt), Lines: pageLines(rv)})
	}
	for _, e := range evs {
		d.Events = append(d.Events, viewEvent(e))
	}
	a.render(c, http.StatusOK, "client.html", d)
}
