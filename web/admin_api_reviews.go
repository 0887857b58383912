package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth"
	adminsvc "github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
	"github.com/scopegate/scopegate/web/adminapi"
)

// The admin API's review, website and operator routes and the plugin
// API: each decodes, calls the service and encodes.

// viewReview is a review with each line's catalogue entry spelled out.
func viewReview(r storage.Review) adminapi.Review {
	v := adminapi.Review{ID: r.ID, ClientID: r.ClientID, FiledBy: r.FiledBy, Status: "decided", Lines: make([]adminapi.ReviewLine, len(r.Lines)), CreatedAt: r.CreatedAt}
	if r.Pending() {
		v.Status = "pending"
	}
	for i, l := range r.Lines {
		lv := scopeLine(l.Scope)
		lv.Index, lv.Justification, lv.Status, lv.Reviewer, lv.Note = i, l.Justification, string(l.Status), l.Reviewer, l.Note
		if !l.DecidedAt.IsZero() {
			t := l.DecidedAt.UTC()
			lv.DecidedAt = &t
		}
		v.Lines[i] = lv
	}
	return v
}

// scopeLine is a review line for scope s with its permission, kind and
// catalogue sentence filled in.
func scopeLine(s string) adminapi.ReviewLine {
	l := adminapi.ReviewLine{Scope: s}
	if sc, err := scopes.ParseScope(s); err == nil {
		l.Permission = sc.Perm.String()
		if d, ok := scopes.Lookup(sc.Name); ok {
			l.Description, l.Kind = d.Sentence(sc.Perm), d.Kind.String()
		}
	}
	return l
}

func reviewLines(ls []adminapi.ReviewLineRequest) []adminsvc.ReviewLine {
	out := make([]adminsvc.ReviewLine, len(ls))
	for i, l := range ls {
		out[i] = adminsvc.ReviewLine{Scope: l.Scope, Justification: l.Justification}
	}
	return out
}

// answerReview answers a filed review: 201 with its location.
func (a *admin) answerReview(c *gin.Context, rv storage.Review, err error) {
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", "/admin/v1/reviews/"+rv.ID)
	writeAPI(c, http.StatusCreated, viewReview(rv))
}

// fileReviewAsAdmin is POST /admin/v1/reviews: an admin files a scope
// request on a plugin's behalf; it waits for decisions like any other.
func (a *admin) fileReviewAsAdmin(c *gin.Context) {
	var req adminapi.AdminReviewRequest
	fields, ok := a.decode(c, &req, false)
	if !ok || invalid(c, fields) {
		return
	}
	rv, err := a.svc.FileReview(c.Request.Context(), actor(c), req.ClientID, reviewLines(req.Lines))
	a.answerReview(c, rv, err)
}

// fileReviewAsPlugin is POST /plugin/v1/scope-requests: a plugin files its
// own scope request, authenticated as a confidential client with
// client_secret_basic (RFC 6749 §2.3.1). Errors about the client follow
// RFC 6749 §5.2 (401 invalid_client with WWW-Authenticate).
func (a *admin) fileReviewAsPlugin(c *gin.Context) {
	if c.GetHeader("Authorization") == "" {
		oauth.WriteError(c.Writer, oauth.ErrInvalidClient.WithDescription("authenticate with HTTP Basic: client_id and client_secret"))
		c.Abort()
		return
	}
	cl, err := a.p.AuthenticateClient(c.Request.Context(), c.Request)
	if err != nil {
		e, known := oauth.AsError(err)
		if !known {
			a.log.Error("plugin API: internal error", "err", err)
		}
		oauth.WriteError(c.Writer, e)
		c.Abort()
		return
	}
	if cl.Role != storage.RolePlugin || cl.Type != storage.Confidential {
		oauth.WriteError(c.Writer, &oauth.Error{Code: oauth.CodeUnauthorizedClient, Status: http.StatusForbidden,
			Description: "only confidential plugin clients may file scope requests; ask an admin otherwise"})
		c.Abort()
		return
	}
	var req adminapi.PluginReviewRequest
	fields, ok := a.decode(c, &req, false)
	if !ok || invalid(c, fields) {
		return
	}
	rv, err := a.svc.FileClientReview(c.Request.Context(), cl, reviewLines(req.Lines))
	a.answerReview(c, rv, err)
}

// listReviews is GET /admin/v1/reviews?status=pending|decided|all&client_id=.
// Without client_id only the pending queue (oldest first) can be listed.
func (a *admin) listReviews(c *gin.Context) {
	q := c.Request.URL.Query()
	if f := queryFields(q, "status", "client_id"); invalid(c, f) {
		return
	}
	status, clientID := q.Get("status"), q.Get("client_id")
	if status == "" {
		status = adminsvc.ReviewsPending
	}
	if clientID != "" && !validRef(clientID) {
		invalid(c, map[string]string{"client_id": refDescription})
		return
	}
	rs, err := a.svc.ListReviews(c.Request.Context(), status, clientID)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := make([]adminapi.Review, len(rs))
	for i, r := range rs {
		out[i] = viewReview(r)
	}
	writeAPI(c, http.StatusOK, adminapi.ReviewList{Reviews: out})
}

// reviewParam reads the :id of a review route (a token.NewID).
func reviewParam(c *gin.Context) (string, bool) {
	return idParam(c, "review", func(id string) bool { return len(id) == token.GrantLen && idPattern.MatchString(id) })
}

// getReview is GET /admin/v1/reviews/:id.
func (a *admin) getReview(c *gin.Context) {
	id, ok := reviewParam(c)
	if !ok {
		return
	}
	rv, err := a.svc.GetReview(c.Request.Context(), id)
	if err != nil {
		a.fail(c, err)
		return
	}
	writeAPI(c, http.StatusOK, viewReview(rv))
}

// lineParam reads a line number from 0, written canonically; -1 when it
// is not one (the service answers "no such line").
func lineParam(s string) int {
	line, err := strconv.Atoi(s)
	if err != nil || line < 0 || strconv.Itoa(line) != s {
		return -1
	}
	return line
}

// decideLine is POST /admin/v1/reviews/:id/lines/:line (line from 0).
func (a *admin) decideLine(c *gin.Context) {
	id, ok := reviewParam(c)
	if !ok {
		return
	}
	var req adminapi.DecisionRequest
	fields, ok := a.decode(c, &req, false)
	if !ok || invalid(c, fields) {
		return
	}
	rv, cl, err := a.svc.Decide(c.Request.Context(), actor(c), id, lineParam(c.Param("line")), req.Decision == "approve", req.Note)
	if err != nil {
		a.fail(c, err)
		return
	}
	writeAPI(c, http.StatusOK, adminapi.Decided{Review: viewReview(rv), Client: a.viewClient(cl)})
}

// createWebsite is POST /admin/v1/websites; an existing ID is 409 and is
// left untouched.
func (a *admin) createWebsite(c *gin.Context) {
	var req adminapi.Website
	fields, ok := a.decode(c, &req, false)
	if !ok || invalid(c, fields) {
		return
	}
	w, err := a.svc.CreateWebsite(c.Request.Context(), actor(c), storage.Website{ID: req.ID, Name: req.Name})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", "/admin/v1/websites/"+w.ID)
	writeAPI(c, http.StatusCreated, adminapi.Website{ID: w.ID, Name: w.Name})
}

// getWebsite is GET /admin/v1/websites/:id.
func (a *admin) getWebsite(c *gin.Context) {
	id, ok := idParam(c, "website", validRef)
	if !ok {
		return
	}
	w, err := a.svc.GetWebsite(c.Request.Context(), id)
	if err != nil {
		a.fail(c, err)
		return
	}
	writeAPI(c, http.StatusOK, adminapi.Website{ID: w.ID, Name: w.Name})
}

// createOperator is POST /admin/v1/operators. Every website must exist
// already (400 naming the missing ones): the API never creates a website
// by accident; the CLI creates missing ones first, named after their ID.
func (a *admin) createOperator(c *gin.Context) {
	var req adminapi.OperatorCreateRequest
	fields, ok := a.decode(c, &req, false)
	if !ok {
		return
	}
	// The validator's complaints and the service's are answered together.
	op, err := a.svc.CreateOperator(c.Request.Context(), actor(c),
		adminsvc.NewOperator{Email: req.Email, Password: req.Password, Websites: req.Websites}, fields)
	if err != nil {
		a.fail(c, err)
		return
	}
	writeAPI(c, http.StatusCreated, adminapi.OperatorCreated{OperatorID: op.ID, Email: op.Email, Websites: op.Websites})
}
