package admin

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// ReviewLine is one requested scope and why the plugin needs it.
type ReviewLine struct {
	Scope, Justification string
}

// FileReview files a scope request for clientID on an admin's behalf
// (FiledBy is the actor); it waits for decisions like any other. An
// unknown client is an ErrInvalid blaming "client_id".
func (s *Service) FileReview(ctx context.Context, actor, clientID string, lines []ReviewLine) (storage.Review, error) {
	cl, err := s.store.GetClient(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Review{}, Invalid(map[string]string{"client_id": "no such client"})
	}
	if err != nil {
		return storage.Review{}, fromStore(err, "client")
	}
	return s.fileReview(ctx, cl, actor, actor, lines)
}

// FileClientReview files a plugin's own scope request (FiledBy "client",
// audited as "client:<id>"). The caller has authenticated cl.
func (s *Service) FileClientReview(ctx context.Context, cl storage.Client, lines []ReviewLine) (storage.Review, error) {
	return s.fileReview(ctx, cl, "client", "client:"+cl.ID, lines)
}

func (s *Service) fileReview(ctx context.Context, cl storage.Client, filedBy, actor string, lines []ReviewLine) (storage.Review, error) {
	fields := map[string]string{}
	if cl.Role != storage.RolePlugin {
		fields["client_id"] = "resource-server clients cannot request scopes"
	}
	seen := map[string]int{}
	out := make([]storage.ReviewLine, len(lines))
	for i, l := range lines {
		key := "lines[" + strconv.Itoa(i) + "].scope"
		sc, err := scopes.ParseScope(l.Scope)
		canon := sc.String()
		switch j, dup := seen[canon]; {
		case err != nil:
			fields[key] = "must be a scope NAME:read or NAME:write from the catalogue"
		case dup:
			fields[key] = "repeats lines[" + strconv.Itoa(j) + "]"
		case cl.Approved.Contains(sc):
			fields[key] = "is already approved for this client"
		}
		seen[canon] = i
		out[i] = storage.ReviewLine{Scope: canon, Justification: strings.TrimSpace(l.Justification), Status: storage.LinePending}
	}
	if err := Invalid(fields); err != nil {
		return storage.Review{}, err
	}
	rv := storage.Review{ID: token.NewID(), ClientID: cl.ID, FiledBy: filedBy, Lines: out, CreatedAt: s.now()}
	if err := s.store.CreateReview(ctx, rv); err != nil {
		return rv, fromStore(err, "review")
	}
	s.Audit(ctx, actor, storage.Event{Kind: storage.KindReviewFiled, ClientID: cl.ID, Detail: map[string]string{
		"review_id": rv.ID, "lines": strconv.Itoa(len(out))}})
	return rv, nil
}

// fileAndApprove is the admin's shortcut: an admin-filed review whose
// lines are approved at once, so the approval is in the history like any
// other.
func (s *Service) fileAndApprove(ctx context.Context, actor, clientID string, approve []string) (storage.Review, storage.Client, error) {
	lines := make([]storage.ReviewLine, len(approve))
	for i, sc := range approve {
		lines[i] = storage.ReviewLine{Scope: sc, Justification: "Approved directly by an administrator when the client was created.", Status: storage.LinePending}
	}
	rv := storage.Review{ID: token.NewID(), ClientID: clientID, FiledBy: actor, Lines: lines, CreatedAt: s.now()}
	if err := s.store.CreateReview(ctx, rv); err != nil {
		return rv, storage.Client{}, err
	}
	s.Audit(ctx, actor, storage.Event{Kind: storage.KindReviewFiled, ClientID: clientID, Detail: map[string]string{
		"review_id": rv.ID, "lines": strconv.Itoa(len(lines))}})
	var cl storage.Client
	for i := range lines {
		var err error
		rv, cl, err = s.store.DecideLine(ctx, rv.ID, i, true, actor, "admin shortcut", s.now())
		if err != nil {
			return rv, cl, err
		}
		s.Audit(ctx, actor, storage.Event{Kind: storage.KindReviewLineApproved, ClientID: clientID, Detail: map[string]string{
			"review_id": rv.ID, "line": strconv.Itoa(i), "scope": lines[i].Scope}})
	}
	s.forget(clientID)
	return rv, cl, nil
}

// Decide approves or rejects line (from 0) of a review; an approval joins
// the client's approved maximum in the same storage step. A line out of
// range is ErrNotFound; a line already decided ErrConflict.
func (s *Service) Decide(ctx context.Context, actor, reviewID string, line int, approve bool, note string) (storage.Review, storage.Client, error) {
	if line < 0 {
		return storage.Review{}, storage.Client{}, NotFoundBecause("line", "no such line")
	}
	rv, err := s.store.GetReview(ctx, reviewID)
	if err != nil {
		return rv, storage.Client{}, fromStore(err, "review")
	}
	if line >= len(rv.Lines) {
		return rv, storage.Client{}, NotFoundBecause("line", "no such line: the review has "+strconv.Itoa(len(rv.Lines))+" lines")
	}
	if st := rv.Lines[line].Status; st != storage.LinePending {
		return rv, storage.Client{}, conflict("line", "line "+strconv.Itoa(line)+" is already "+string(st), nil)
	}
	note = strings.TrimSpace(note)
	rv, cl, err := s.store.DecideLine(ctx, reviewID, line, approve, actor, note, s.now())
	if err != nil {
		return rv, cl, fromStore(err, "review")
	}
	s.forget(rv.ClientID)
	kind := storage.KindReviewLineRejected
	if approve {
		kind = storage.KindReviewLineApproved
	}
	s.Audit(ctx, actor, storage.Event{Kind: kind, ClientID: rv.ClientID, Detail: map[string]string{
		"review_id": rv.ID, "line": strconv.Itoa(line), "scope": rv.Lines[line].Scope, "note": note}})
	return rv, cl, nil
}

// GetReview returns one review.
func (s *Service) GetReview(ctx context.Context, id string) (storage.Review, error) {
	rv, err := s.store.GetReview(ctx, id)
	return rv, fromStore(err, "review")
}

// Which reviews ListReviews returns.
const (
	ReviewsPending = "pending"
	ReviewsDecided = "decided"
	ReviewsAll     = "all"
)

// ListReviews lists reviews by status (ReviewsPending, ReviewsDecided,
// ReviewsAll), of one client when clientID is set. Without a client, the
// pending queue is oldest first and the rest newest first; a client's are
// newest first.
func (s *Service) ListReviews(ctx context.Context, status, clientID string) ([]storage.Review, error) {
	if status != ReviewsPending && status != ReviewsDecided && status != ReviewsAll {
		return nil, Invalid(map[string]string{"status": "must be one of: pending, decided, all"})
	}
	var (
		rs  []storage.Review
		err error
	)
	switch {
	case clientID != "":
		rs, err = s.store.ListReviews(ctx, clientID)
	case status == ReviewsPending:
		rs, err = s.store.ListPendingReviews(ctx)
	default:
		rs, err = s.everyReview(ctx)
	}
	if err != nil {
		return nil, fromStore(err, "reviews")
	}
	out := []storage.Review{}
	for _, r := range rs {
		if status == ReviewsAll || (status == ReviewsPending) == r.Pending() {
			out = append(out, r)
		}
	}
	return out, nil
}

// everyReview returns every client's reviews, newest first (one
// ListReviews per client; an admin request, not a hot path).
func (s *Service) everyReview(ctx context.Context) ([]storage.Review, error) {
	cs, err := s.store.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	var out []storage.Review
	for _, cl := range cs {
		rs, err := s.store.ListReviews(ctx, cl.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}
