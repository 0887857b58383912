package web

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
	"github.com/scopegate/scopegate/web/adminapi"
)

func viewReview(r storage.Review) adminapi.Review {
	v := adminapi.Review{ID: r.ID, ClientID: r.ClientID, FiledBy: r.FiledBy, Status: "decided", Lines: make([]adminapi.ReviewLine, len(r.Lines)), CreatedAt: r.CreatedAt}
	if r.Pending() {
		v.Status = "pending"
	}
	for i, l := range r.Lines {
		lv := adminapi.ReviewLine{Index: i, Scope: l.Scope, Justification: l.Justification, Status: string(l.Status), Reviewer: l.Reviewer, Note: l.Note}
		if sc, err := scopes.ParseScope(l.Scope); err == nil {
			lv.Permission = sc.Perm.String()
			if d, ok := scopes.Lookup(sc.Name); ok {
				lv.Description, lv.Kind = d.Sentence(sc.Perm), d.Kind.String()
			}
		}
		if !l.DecidedAt.IsZero() {
			t := l.DecidedAt.UTC()
			lv.DecidedAt = &t
		}
		v.Lines[i] = lv
	}
	return v
}

// fileReviewAsAdmin is POST /admin/v1/reviews: an admin files a scope
// request on a plugin's behalf; it waits for decisions like any other.
func (a *admin) fileReviewAsAdmin(c *gin.Context) {
	var req adminapi.AdminReviewRequest
	fields, ok := a.decode(c, &req, false)
	if !ok || invalid(c, fields) {
		return
	}
	cl, err := a.store.GetClient(c.Request.Context(), req.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		invalid(c, map[string]string{"client_id": "no such client"})
		return
	}
	if err != nil {
		a.storageFail(c, err, "client")
		return
	}
	a.fileReview(c, cl, actor(c), req.Lines)
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
	a.fileReview(c, cl, "client", req.Lines)
}

func (a *admin) fileReview(c *gin.Context, cl storage.Client, filedBy string, lines []adminapi.ReviewLineRequest) {
	fields := map[string]string{}
	if cl.Role != storage.RolePlugin {
		fields["client_id"] = "resource-server clients cannot request scopes"
	}
	seen := map[string]int{}
	out := make([]storage.ReviewLine, len(lines))
	for i, l := range lines {
		key := "lines[" + strconv.Itoa(i) + "].scope"
		sc, _ := scopes.ParseScope(l.Scope)
		canon := sc.String()
		if j, dup := seen[canon]; dup {
			fields[key] = "repeats lines[" + strconv.Itoa(j) + "]"
		} else if cl.Approved.Contains(sc) {
			fields[key] = "is already approved for this client"
		}
		seen[canon] = i
		out[i] = storage.ReviewLine{Scope: canon, Justification: strings.TrimSpace(l.Justification), Status: storage.LinePending}
	}
	if invalid(c, fields) {
		return
	}
	rv := storage.Review{ID: token.NewID(), ClientID: cl.ID, FiledBy: filedBy, Lines: out, CreatedAt: a.now()}
	if err := a.store.CreateReview(c.Request.Context(), rv); err != nil {
		a.storageFail(c, err, "review")
		return
	}
	e := storage.Event{Kind: "review.filed", ClientID: cl.ID, Detail: map[string]string{"review_id": rv.ID, "lines": strconv.Itoa(len(out))}}
	if filedBy == "client" {
		e.Actor = "client:" + cl.ID
	}
	a.audit(c, e)
	c.Header("Location", "/admin/v1/reviews/"+rv.ID)
	writeAPI(c, http.StatusCreated, viewReview(rv))
}

// listReviews is GET /admin/v1/reviews?status=pending|decided|all&client_id=.
// Without client_id only the pending queue (oldest first) can be listed.
func (a *admin) listReviews(c *gin.Context) {
	q := c.Request.URL.Query()
	if f := queryFields(q, "status", "client_id"); invalid(c, f) {
		return
	}
	status, clientID := q.Get("status"), q.Get("client_id")
	f := map[string]string{}
	if status == "" {
		status = "pending"
	}
	if status != "pending" && status != "decided" && status != "all" {
		f["status"] = "must be one of: pending, decided, all"
	}
	if clientID != "" && !validRef(clientID) {
		f["client_id"] = refDescription
	}
	if invalid(c, f) {
		return
	}
	ctx := c.Request.Context()
	var (
		rs  []storage.Review
		err error
	)
	switch {
	case clientID != "":
		rs, err = a.store.ListReviews(ctx, clientID)
	case status == "pending":
		rs, err = a.store.ListPendingReviews(ctx)
	default:
		rs, err = a.everyReview(ctx)
	}
	if err != nil {
		a.storageFail(c, err, "reviews")
		return
	}
	out := []adminapi.Review{}
	for _, r := range rs {
		if status == "all" || (status == "pending") == r.Pending() {
			out = append(out, viewReview(r))
		}
	}
	writeAPI(c, http.StatusOK, adminapi.ReviewList{Reviews: out})
}

// queryFields rejects query parameters that are unknown or given twice.
func queryFields(q map[string][]string, known ...string) map[string]string {
	f := map[string]string{}
	for k, vs := range q {
		ok := false
		for _, n := range known {
			ok = ok || k == n
		}
		switch {
		case !ok:
			f[sanitizeField(k)] = "is not a known parameter"
		case len(vs) > 1:
			f[k] = "is given more than once"
		}
	}
	return f
}

func reviewParam(c *gin.Context) (string, bool) {
	id := c.Param("id")
	if len(id) != token.GrantLen || !idPattern.MatchString(id) {
		apiFail(c, http.StatusNotFound, "not_found", "review not found")
		return "", false
	}
	return id, true
}

// getReview is GET /admin/v1/reviews/:id.
func (a *admin) getReview(c *gin.Context) {
	id, ok := reviewParam(c)
	if !ok {
		return
	}
	rv, err := a.store.GetReview(c.Request.Context(), id)
	if err != nil {
		a.storageFail(c, err, "review")
		return
	}
	writeAPI(c, http.StatusOK, viewReview(rv))
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
	rv, cl, status, desc, err := a.decide(c, id, c.Param("line"), req.Decision == "approve", req.Note)
	if err != nil {
		a.storageFail(c, err, "review")
		return
	}
	if status != 0 {
		apiFail(c, status, map[int]string{http.StatusNotFound: "not_found", http.StatusConflict: "conflict"}[status], desc)
		return
	}
	writeAPI(c, http.StatusOK, adminapi.Decided{Review: viewReview(rv), Client: a.viewClient(cl)})
}

// decide is what the API and the review page share: check the line is
// pending, decide it (an approval joins the client's approved maximum in
// the same storage step), forget the cached client, audit. A non-zero
// status is a 404/409 answer with desc; err is a storage error.
func (a *admin) decide(c *gin.Context, reviewID, lineParam string, approve bool, note string) (storage.Review, storage.Client, int, string, error) {
	ctx := c.Request.Context()
	line, err := strconv.Atoi(lineParam)
	if err != nil || line < 0 || strconv.Itoa(line) != lineParam {
		return storage.Review{}, storage.Client{}, http.StatusNotFound, "no such line", nil
	}
	rv, err := a.store.GetReview(ctx, reviewID)
	if err != nil {
		return rv, storage.Client{}, 0, "", err
	}
	if line >= len(rv.Lines) {
		return rv, storage.Client{}, http.StatusNotFound, "no such line: the review has " + strconv.Itoa(len(rv.Lines)) + " lines", nil
	}
	if rv.Lines[line].Status != storage.LinePending {
		return rv, storage.Client{}, http.StatusConflict, "line " + lineParam + " is already " + string(rv.Lines[line].Status), nil
	}
	rv, cl, err := a.store.DecideLine(ctx, reviewID, line, approve, actor(c), strings.TrimSpace(note), a.now())
	if err != nil {
		return rv, cl, 0, "", err
	}
	a.Forget(rv.ClientID)
	kind := "review.line_rejected"
	if approve {
		kind = "review.line_approved"
	}
	a.audit(c, storage.Event{Kind: kind, ClientID: rv.ClientID, Detail: map[string]string{
		"review_id": rv.ID, "line": lineParam, "scope": rv.Lines[line].Scope, "note": strings.TrimSpace(note)}})
	return rv, cl, 0, "", nil
}

// createWebsite is POST /admin/v1/websites; an existing ID is 409 and is
// left untouched.
func (a *admin) createWebsite(c *gin.Context) {
	var req adminapi.Website
	fields, ok := a.decode(c, &req, false)
	if !ok || invalid(c, fields) {
		return
	}
	ctx := c.Request.Context()
	_, err := a.store.GetWebsite(ctx, req.ID)
	if err == nil {
		writeAPI(c, http.StatusConflict, adminapi.Error{Code: "conflict", Description: "a website with this id already exists", Fields: map[string]string{"id": "is taken"}})
		return
	}
	if !errors.Is(err, storage.ErrNotFound) {
		a.storageFail(c, err, "website")
		return
	}
	w := storage.Website{ID: req.ID, Name: req.Name}
	if err := a.store.PutWebsite(ctx, w); err != nil {
		a.storageFail(c, err, "website")
		return
	}
	a.audit(c, storage.Event{Kind: "website.created", WebsiteID: w.ID, Detail: map[string]string{"name": w.Name}})
	c.Header("Location", "/admin/v1/websites/"+w.ID)
	writeAPI(c, http.StatusCreated, adminapi.Website{ID: w.ID, Name: w.Name})
}

// getWebsite is GET /admin/v1/websites/:id.
func (a *admin) getWebsite(c *gin.Context) {
	id := c.Param("id")
	if !validRef(id) {
		apiFail(c, http.StatusNotFound, "not_found", "website not found")
		return
	}
	w, err := a.store.GetWebsite(c.Request.Context(), id)
	if err != nil {
		a.storageFail(c, err, "website")
		return
	}
	writeAPI(c, http.StatusOK, adminapi.Website{ID: w.ID, Name: w.Name})
}

// createOperator is POST /admin/v1/operators. Every website must exist
// already (400 naming the missing ones): the API never creates a website
// by accident; the CLI creates missing ones first, named after their ID.
// The password is stored as a bcrypt hash only.
func (a *admin) createOperator(c *gin.Context) {
	var req adminapi.OperatorCreateRequest
	fields, ok := a.decode(c, &req, false)
	if !ok {
		return
	}
	if fields == nil {
		fields = map[string]string{}
	}
	if _, bad := fields["password"]; !bad && len(req.Password) > 72 {
		fields["password"] = "must be at most 72 bytes"
	}
	ctx := c.Request.Context()
	if _, bad := fields["websites"]; !bad {
		for i, w := range req.Websites {
			key := "websites[" + strconv.Itoa(i) + "]"
			if _, bad := fields[key]; bad {
				continue
			}
			_, err := a.store.GetWebsite(ctx, w)
			if errors.Is(err, storage.ErrNotFound) {
				fields[key] = "no such website (create it with POST /admin/v1/websites)"
			} else if err != nil {
				a.storageFail(c, err, "website")
				return
			}
		}
	}
	if invalid(c, fields) {
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), bcrypt.DefaultCost)
	if err != nil {
		apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "the password cannot be hashed")
		return
	}
	op := storage.Operator{ID: "op_" + token.NewID()[:16], Email: strings.ToLower(req.Email), PasswordHash: hash,
		Websites: req.Websites, CreatedAt: a.now()}
	if err := a.store.CreateOperator(ctx, op); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			writeAPI(c, http.StatusConflict, adminapi.Error{Code: "conflict", Description: "an operator with this e-mail already exists",
				Fields: map[string]string{"email": "is taken"}})
			return
		}
		a.storageFail(c, err, "operator")
		return
	}
	a.audit(c, storage.Event{Kind: "operator.created", Detail: map[string]string{"operator_id": op.ID, "websites": joinComma(op.Websites)}})
	writeAPI(c, http.StatusCreated, adminapi.OperatorCreated{OperatorID: op.ID, Email: op.Email, Websites: op.Websites})
}

// everyReview returns every client's reviews, newest first: the decided
// history without a client_id (one ListReviews per client; an admin
// request, not a hot path).
func (a *admin) everyReview(ctx context.Context) ([]storage.Review, error) {
	cs, err := a.store.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	var out []storage.Review
	for _, cl := range cs {
		rs, err := a.store.ListReviews(ctx, cl.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}
