package admin

import (
	"context"
	"strconv"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
)

// LowerMaximum removes scopes from the client's approved maximum. Each
// must be in it (an ErrInvalid naming "scopes[i]" otherwise: a typo is not
// silently ignored). Live tokens lose the removed scopes at once.
func (s *Service) LowerMaximum(ctx context.Context, actor, id string, remove []string) (storage.Client, error) {
	return s.changeMaximum(ctx, actor, id, remove, "is not in the approved maximum", func(cur, req scopes.Set) scopes.Set {
		return cur.Difference(req)
	})
}

// SetMaximum makes keep the client's approved maximum; it may only narrow
// (widening goes through a review).
func (s *Service) SetMaximum(ctx context.Context, actor, id string, keep []string) (storage.Client, error) {
	return s.changeMaximum(ctx, actor, id, keep, "is not in the approved maximum; widening needs a review", func(_, req scopes.Set) scopes.Set {
		return req
	})
}

// changeMaximum checks every scope of req is in the current maximum
// (blaming "scopes[i]" with notIn otherwise), then stores next(cur, req)
// atomically, forgets the cached client and audits.
func (s *Service) changeMaximum(ctx context.Context, actor, id string, req []string, notIn string, next func(cur, req scopes.Set) scopes.Set) (storage.Client, error) {
	var want scopes.Set
	bad := map[string]string{}
	for i, sc := range req {
		set, err := scopes.Parse(sc)
		if err != nil || set.Len() != 1 {
			bad["scopes["+strconv.Itoa(i)+"]"] = "must be a scope NAME:read or NAME:write from the catalogue"
			continue
		}
		want = want.Union(set)
	}
	if err := Invalid(bad); err != nil {
		return storage.Client{}, err
	}
	var before scopes.Set
	cl, err := s.store.UpdateClient(ctx, id, func(cl storage.Client) (storage.Client, error) {
		f := map[string]string{}
		for i, sc := range req {
			if set, _ := scopes.Parse(sc); !set.SubsetOf(cl.Approved) {
				f["scopes["+strconv.Itoa(i)+"]"] = notIn
			}
		}
		if err := Invalid(f); err != nil {
			return cl, err
		}
		before = cl.Approved
		cl.Approved, cl.UpdatedAt = next(cl.Approved, want), s.now()
		return cl, nil
	})
	if err != nil {
		return cl, fromStore(err, "client")
	}
	s.forget(id)
	s.Audit(ctx, actor, storage.Event{Kind: storage.KindClientMaximumLowered, ClientID: id, Detail: map[string]string{
		"removed": before.Difference(cl.Approved).String(), "approved": cl.Approved.String()}})
	return cl, nil
}
