package storage

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/scopes"
)

// optimistic runs fn under WATCH keys (one slot) and retries, with a short
// jittered backoff, when another writer changed them before EXEC; after
// updateRetries lost races it gives ErrConflict. fn returns a Redis error
// (a retry or ErrUnavailable) and sets *result to its own outcome (a
// domain error, or nil after queueing its writes with tx.TxPipelined).
func (r *Redis) optimistic(ctx context.Context, op string, keys []string, fn func(tx *redis.Tx, result *error) error) error {
	for i := range updateRetries {
		var result error
		err := r.rdb.Watch(ctx, func(tx *redis.Tx) error { return fn(tx, &result) }, keys...)
		if err == nil {
			return result
		}
		if errors.Is(err, ErrUnavailable) {
			return err
		}
		if !errors.Is(err, redis.TxFailedErr) {
			return unavailable(op, err)
		}
		t := time.NewTimer(time.Duration(rand.IntN(1000*(i+1))) * time.Microsecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return unavailable(op, ctx.Err())
		case <-t.C:
		}
	}
	return fmt.Errorf("%w: %s: %d lost races", ErrConflict, op, updateRetries)
}

// getByID reads the record what (such as "client") of id, stored at key:
// ErrNotFound for a missing key or an id no key can hold.
func getByID[T any](ctx context.Context, r *Redis, what, id, key string) (T, error) {
	var v T
	if !validID(id) {
		return v, notFound(what + " " + id)
	}
	err := r.getJSON(ctx, r.rdb, key, what+" "+id, &v)
	return v, err
}

// getJSON reads key into v: ErrNotFound for a missing key.
func (r *Redis) getJSON(ctx context.Context, c redis.Cmdable, key, what string, v any) error {
	b, err := c.Get(ctx, key).Bytes()
	if isNil(err) {
		return notFound(what)
	}
	if err != nil {
		return unavailable("get "+what, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return corrupt(what, err)
	}
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the store's own record types are marshalled; none can fail.
		panic(fmt.Sprintf("storage: marshal %T: %v", v, err))
	}
	return string(b)
}

// CreateClient stores a new client (ErrAlreadyExists if the ID is taken).
// Zero CreatedAt and UpdatedAt become now.
func (r *Redis) CreateClient(ctx context.Context, c Client) error {
	if err := checkID("client", c.ID); err != nil {
		return err
	}
	now := r.now()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	pipe := r.rdb.Pipeline()
	set := pipe.SetNX(ctx, r.k.client(c.ID), mustJSON(c), 0)
	pipe.SAdd(ctx, r.k.clients(), c.ID)
	r.publishClientChange(ctx, pipe, c.ID)
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("create client", err)
	}
	if !set.Val() {
		return fmt.Errorf("%w: client %s", ErrAlreadyExists, c.ID)
	}
	return nil
}

// GetClient returns a client.
func (r *Redis) GetClient(ctx context.Context, id string) (Client, error) {
	return getByID[Client](ctx, r, "client", id, r.k.client(id))
}

// UpdateClient applies fn to the stored client atomically (optimistic:
// WATCH/MULTI, retried; ErrConflict after repeated lost races). fn's error
// is returned as is and nothing is written. fn must keep the ID; the store
// sets UpdatedAt.
func (r *Redis) UpdateClient(ctx context.Context, id string, fn func(Client) (Client, error)) (Client, error) {
	if !validID(id) {
		return Client{}, notFound("client " + id)
	}
	key := r.k.client(id)
	var out Client
	err := r.optimistic(ctx, "update client", []string{key}, func(tx *redis.Tx, result *error) error {
		var c Client
		if err := r.getJSON(ctx, tx, key, "client "+id, &c); err != nil {
			if errors.Is(err, ErrUnavailable) {
				return err
			}
			*result = err
			return nil
		}
		nc, err := fn(c)
		if err != nil {
			*result = err
			return nil
		}
		if nc.ID != id {
			*result = fmt.Errorf("storage: UpdateClient may not change the ID (%s to %s)", id, nc.ID)
			return nil
		}
		nc.UpdatedAt = r.now()
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, mustJSON(nc), 0)
			r.publishClientChange(ctx, p, id)
			return nil
		})
		out = nc
		return err
	})
	if err != nil {
		return Client{}, err
	}
	return out, nil
}

// DeleteClient deletes the client record and its client-credentials
// pointer, and takes its reviews off the pending list (the reviews stay as
// history). Callers revoke its grants first (RevokeClient).
func (r *Redis) DeleteClient(ctx context.Context, id string) error {
	if !validID(id) {
		return notFound("client " + id)
	}
	var del *redis.IntCmd
	var revs *redis.StringSliceCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		del = p.Del(ctx, r.k.client(id))
		p.Del(ctx, r.k.clientCC(id))
		revs = p.ZRange(ctx, r.k.clientReviews(id), 0, -1)
		r.publishClientChange(ctx, p, id)
		return nil
	})
	if err != nil {
		return unavailable("delete client", err)
	}
	pipe := r.rdb.Pipeline()
	pipe.SRem(ctx, r.k.clients(), id)
	if ids := revs.Val(); len(ids) > 0 {
		pipe.ZRem(ctx, r.k.pendingReviews(), toAny(ids)...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("delete client", err)
	}
	if del.Val() == 0 {
		return notFound("client " + id)
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// getMany GETs keys (any slots) in pipelined batches; missing keys give "".
func (r *Redis) getMany(ctx context.Context, op string, keys []string) ([]string, error) {
	out := make([]string, len(keys))
	for start := 0; start < len(keys); start += 1000 {
		batch := keys[start:min(start+1000, len(keys))]
		pipe := r.rdb.Pipeline()
		cmds := make([]*redis.StringCmd, len(batch))
		for i, k := range batch {
			cmds[i] = pipe.Get(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil && !isNil(err) {
			return nil, unavailable(op, err)
		}
		for i, c := range cmds {
			out[start+i] = c.Val()
		}
	}
	return out, nil
}

// ListClients returns every client, by ID.
func (r *Redis) ListClients(ctx context.Context) ([]Client, error) {
	ids, err := r.rdb.SMembers(ctx, r.k.clients()).Result()
	if err != nil {
		return nil, unavailable("list clients", err)
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.k.client(id)
	}
	vals, err := r.getMany(ctx, "list clients", keys)
	if err != nil {
		return nil, err
	}
	out := make([]Client, 0, len(vals))
	for _, v := range vals {
		if v == "" {
			continue // deleted between SMEMBERS and GET
		}
		var c Client
		if err := json.Unmarshal([]byte(v), &c); err != nil {
			return nil, corrupt("client", err)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Client) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// CreateOperator stores an operator. The e-mail is stored lower-cased and is
// unique (ErrAlreadyExists), as is the ID.
func (r *Redis) CreateOperator(ctx context.Context, o Operator) error {
	if err := checkID("operator", o.ID); err != nil {
		return err
	}
	o.Email = strings.ToLower(o.Email)
	if o.Email == "" || hasControl(o.Email) {
		return fmt.Errorf("storage: invalid operator e-mail %q", o.Email)
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = r.now()
	}
	return r.claimed(ctx, "create operator", r.k.emails(), o.Email, o.ID, "operator e-mail "+o.Email, func() error {
		set, err := r.rdb.SetNX(ctx, r.k.operator(o.ID), mustJSON(o), 0).Result()
		if err != nil {
			return unavailable("create operator", err)
		}
		if !set {
			return fmt.Errorf("%w: operator %s", ErrAlreadyExists, o.ID)
		}
		return nil
	})
}

// claimed claims field of the index hash for value (HSETNX), then runs
// create; a taken field is ErrAlreadyExists about what. When create fails
// the claim is released (best effort).
func (r *Redis) claimed(ctx context.Context, op, index, field, value, what string, create func() error) error {
	ok, err := r.rdb.HSetNX(ctx, index, field, value).Result()
	if err != nil {
		return unavailable(op, err)
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrAlreadyExists, what)
	}
	if err := create(); err != nil {
		r.rdb.HDel(ctx, index, field)
		return err
	}
	return nil
}

// GetOperator returns an operator.
func (r *Redis) GetOperator(ctx context.Context, id string) (Operator, error) {
	return getByID[Operator](ctx, r, "operator", id, r.k.operator(id))
}

// GetOperatorByEmail finds an operator by e-mail, case-insensitively.
func (r *Redis) GetOperatorByEmail(ctx context.Context, email string) (Operator, error) {
	email = strings.ToLower(email)
	id, err := r.rdb.HGet(ctx, r.k.emails(), email).Result()
	if isNil(err) {
		return Operator{}, notFound("operator " + email)
	}
	if err != nil {
		return Operator{}, unavailable("get operator", err)
	}
	o, err := r.GetOperator(ctx, id)
	if err == nil && o.Email != email {
		return Operator{}, notFound("operator " + email)
	}
	return o, err
}

// PutWebsite creates or replaces a website.
func (r *Redis) PutWebsite(ctx context.Context, w Website) error {
	if err := checkID("website", w.ID); err != nil {
		return err
	}
	if err := r.rdb.Set(ctx, r.k.website(w.ID), mustJSON(w), 0).Err(); err != nil {
		return unavailable("put website", err)
	}
	return nil
}

// GetWebsite returns a website.
func (r *Redis) GetWebsite(ctx context.Context, id string) (Website, error) {
	return getByID[Website](ctx, r, "website", id, r.k.website(id))
}

// CreateReview stores a scope request for an existing client (ErrNotFound
// otherwise). Each line's Scope must be one "NAME:PERMISSION"; an empty
// line status becomes pending; a zero CreatedAt becomes now.
func (r *Redis) CreateReview(ctx context.Context, rv Review) error {
	if err := checkID("review", rv.ID); err != nil {
		return err
	}
	if err := checkID("client", rv.ClientID); err != nil {
		return err
	}
	rv.Lines = slices.Clone(rv.Lines)
	for i, l := range rv.Lines {
		if _, err := scopes.ParseScope(l.Scope); err != nil {
			return fmt.Errorf("storage: review line %d: %w", i, err)
		}
		if l.Status == "" {
			rv.Lines[i].Status = LinePending
		}
	}
	if rv.CreatedAt.IsZero() {
		rv.CreatedAt = r.now()
	}
	ck := r.k.client(rv.ClientID)
	score := float64(rv.CreatedAt.UnixMilli())
	err := r.claimed(ctx, "create review", r.k.reviews(), rv.ID, rv.ClientID, "review "+rv.ID, func() error {
		return r.optimistic(ctx, "create review", []string{ck}, func(tx *redis.Tx, result *error) error {
			n, err := tx.Exists(ctx, ck).Result()
			if err != nil {
				return err
			}
			if n == 0 {
				*result = notFound("client " + rv.ClientID)
				return nil
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, r.k.review(rv.ClientID, rv.ID), mustJSON(rv), 0)
				p.ZAdd(ctx, r.k.clientReviews(rv.ClientID), redis.Z{Score: score, Member: rv.ID})
				return nil
			})
			return err
		})
	})
	if err != nil {
		return err
	}
	if rv.Pending() {
		if err := r.rdb.ZAdd(ctx, r.k.pendingReviews(), redis.Z{Score: score, Member: rv.ID}).Err(); err != nil {
			return unavailable("create review", err)
		}
	}
	return nil
}

// reviewClient returns the client a review was filed for.
func (r *Redis) reviewClient(ctx context.Context, id string) (string, error) {
	cid, err := r.rdb.HGet(ctx, r.k.reviews(), id).Result()
	if isNil(err) {
		return "", notFound("review " + id)
	}
	if err != nil {
		return "", unavailable("get review", err)
	}
	return cid, nil
}

// GetReview returns a review.
func (r *Redis) GetReview(ctx context.Context, id string) (Review, error) {
	if !validID(id) {
		return Review{}, notFound("review " + id)
	}
	cid, err := r.reviewClient(ctx, id)
	if err != nil {
		return Review{}, err
	}
	var rv Review
	return rv, r.getJSON(ctx, r.rdb, r.k.review(cid, id), "review "+id, &rv)
}

// ListReviews returns a client's reviews, newest first.
func (r *Redis) ListReviews(ctx context.Context, clientID string) ([]Review, error) {
	if !validID(clientID) {
		return nil, nil
	}
	ids, err := r.rdb.ZRevRange(ctx, r.k.clientReviews(clientID), 0, -1).Result()
	if err != nil {
		return nil, unavailable("list reviews", err)
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.k.review(clientID, id)
	}
	vals, err := r.getMany(ctx, "list reviews", keys)
	if err != nil {
		return nil, err
	}
	return decodeReviews(vals, false)
}

func decodeReviews(vals []string, pendingOnly bool) ([]Review, error) {
	var out []Review
	for _, v := range vals {
		if v == "" {
			continue
		}
		var rv Review
		if err := json.Unmarshal([]byte(v), &rv); err != nil {
			return nil, corrupt("review", err)
		}
		if !pendingOnly || rv.Pending() {
			out = append(out, rv)
		}
	}
	return out, nil
}

// ListPendingReviews returns every review with an undecided line, oldest
// first.
func (r *Redis) ListPendingReviews(ctx context.Context) ([]Review, error) {
	ids, err := r.rdb.ZRange(ctx, r.k.pendingReviews(), 0, -1).Result()
	if err != nil {
		return nil, unavailable("list pending reviews", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	cids, err := r.rdb.HMGet(ctx, r.k.reviews(), ids...).Result()
	if err != nil {
		return nil, unavailable("list pending reviews", err)
	}
	keys := make([]string, 0, len(ids))
	for i, id := range ids {
		if cid, ok := cids[i].(string); ok {
			keys = append(keys, r.k.review(cid, id))
		}
	}
	vals, err := r.getMany(ctx, "list pending reviews", keys)
	if err != nil {
		return nil, err
	}
	return decodeReviews(vals, true)
}

// DecideLine records the decision on line i of a review and, when approved,
// adds the line's scope to the client's approved maximum: both records are
// in the client's slot and are written in one MULTI under WATCH. A line
// already decided gives ErrConflict; an index out of range an error.
func (r *Redis) DecideLine(ctx context.Context, reviewID string, i int, approve bool, reviewer, note string, at time.Time) (Review, Client, error) {
	if !validID(reviewID) {
		return Review{}, Client{}, notFound("review " + reviewID)
	}
	cid, err := r.reviewClient(ctx, reviewID)
	if err != nil {
		return Review{}, Client{}, err
	}
	rk, ck := r.k.review(cid, reviewID), r.k.client(cid)
	var rv Review
	var c Client
	err = r.optimistic(ctx, "decide review line", []string{rk, ck}, func(tx *redis.Tx, result *error) error {
		rv, c = Review{}, Client{}
		for _, x := range []struct {
			key, what string
			v         any
		}{{rk, "review " + reviewID, &rv}, {ck, "client " + cid, &c}} {
			if err := r.getJSON(ctx, tx, x.key, x.what, x.v); err != nil {
				if errors.Is(err, ErrUnavailable) {
					return err
				}
				*result = err
				return nil
			}
		}
		if i < 0 || i >= len(rv.Lines) {
			*result = fmt.Errorf("storage: review %s has no line %d", reviewID, i)
			return nil
		}
		l := &rv.Lines[i]
		if l.Status != LinePending {
			*result = fmt.Errorf("%w: review %s line %d is already %s", ErrConflict, reviewID, i, l.Status)
			return nil
		}
		l.Status, l.Reviewer, l.Note, l.DecidedAt = LineRejected, reviewer, note, at
		if approve {
			l.Status = LineApproved
			set, err := scopes.Parse(l.Scope)
			if err != nil {
				*result = fmt.Errorf("storage: review %s line %d: %w", reviewID, i, err)
				return nil
			}
			c.Approved = c.Approved.Union(set)
			c.UpdatedAt = at
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, rk, mustJSON(rv), 0)
			if approve {
				p.Set(ctx, ck, mustJSON(c), 0)
				r.publishClientChange(ctx, p, cid)
			}
			return nil
		})
		return err
	})
	if err != nil {
		return Review{}, Client{}, err
	}
	if !rv.Pending() {
		// Best effort: listings skip reviews that are no longer pending.
		r.rdb.ZRem(ctx, r.k.pendingReviews(), reviewID)
	}
	return rv, c, nil
}
