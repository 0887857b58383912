package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage/token"
)

// prepareGrant validates g and fills the store's defaults: CreatedAt now;
// a zero or past ExpiresAt becomes now + EmptyGrantTTL. Times are kept to
// the millisecond, as stored.
func (r *Redis) prepareGrant(g *Grant, now time.Time) error {
	if !token.IsID(g.ID) {
		return fmt.Errorf("storage: grant ID %q is not a token.NewID value", g.ID)
	}
	if err := checkID("client", g.ClientID); err != nil {
		return err
	}
	if g.WebsiteID != "" {
		if err := checkID("website", g.WebsiteID); err != nil {
			return err
		}
	}
	if g.OperatorID != "" {
		if err := checkID("operator", g.OperatorID); err != nil {
			return err
		}
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = now
	}
	if !g.ExpiresAt.After(now) {
		g.ExpiresAt = now.Add(EmptyGrantTTL)
	}
	g.CreatedAt = time.UnixMilli(g.CreatedAt.UnixMilli())
	g.ExpiresAt = time.UnixMilli(g.ExpiresAt.UnixMilli())
	g.Revoked = false
	return nil
}

// CreateGrant stores a new grant with no tokens and indexes it under its
// client and website. A zero (or past) ExpiresAt keeps the grant for
// EmptyGrantTTL; IssueTokens extends it. ErrAlreadyExists if the ID is
// taken.
func (r *Redis) CreateGrant(ctx context.Context, g Grant) error {
	now := r.now()
	if err := r.prepareGrant(&g, now); err != nil {
		return err
	}
	_, err := r.createGrant(ctx, g, now, nil)
	return err
}

// ccFirst is what createGrant adds for a client-credentials grant: its
// first token's record, and the installation of the grant as the client's
// pointer ({c:<id>}:cc) unless the pointer names another grant than expect.
type ccFirst struct {
	tok    tokenRec
	expect string
}

// createGrant stores g (prepared) and indexes it under its client and
// website. With cc it stores cc's token in the same step and installs the
// grant as the client's client-credentials grant in the same step as
// indexing it; it then returns the pointer afterwards.
func (r *Redis) createGrant(ctx context.Context, g Grant, now time.Time, cc *ccFirst) (string, error) {
	ids, err := r.saveScopeSets(ctx, g.Scopes)
	if err != nil {
		return "", err
	}
	fields := grantFields(g, ids[0])
	if cc != nil {
		rec := cc.tok.header
		if cc.tok.ssid != ids[0] {
			rec += cc.tok.ssid
		}
		fields = append(fields, cc.tok.field, rec)
	}
	created, err := createGrantScript.run(ctx, r, createGrantArgs{grant: r.k.grant(g.ID), ttl: ttlMillis(g.ExpiresAt, now), fields: fields})
	if err != nil {
		return "", unavailable("create grant", err)
	}
	if !created {
		return "", fmt.Errorf("%w: grant %s", ErrAlreadyExists, g.ID)
	}
	// Index only after the grant exists, so an index never names another
	// client's or website's grant. The score is the grant's expiry when
	// indexed: a lower bound, since tokens extend grants without touching
	// indexes (that would cross slots). Entries below now are only
	// candidates for pruning, checked against the grant record first.
	idx := []string{r.k.clientGrants(g.ClientID)}
	if g.WebsiteID != "" {
		idx = append(idx, r.k.websiteGrants(g.WebsiteID))
	}
	// The two indexes are in two slots: two scripts, run concurrently. The
	// client's pointer is in its index's slot.
	var ptr, expect string
	if cc != nil {
		ptr, expect = r.k.clientCC(g.ClientID), cc.expect
	}
	type added struct {
		indexAdded
		err error
	}
	res := make([]added, len(idx))
	var wg sync.WaitGroup
	for i, base := range idx {
		p, e := ptr, expect
		if i > 0 {
			p, e = "", "" // the website's index has no pointer
		}
		wg.Go(func() { res[i].indexAdded, res[i].err = r.indexAdd(ctx, base, g.ID, g.ExpiresAt, now, p, e) })
	}
	wg.Wait()
	for _, a := range res {
		if a.err != nil {
			return "", unavailable("index grant", a.err)
		}
	}
	// Amortised cleanup: every new grant checks up to 16 stale entries of
	// the index shard it joins, so indexes stay near their live size. Best
	// effort: the grant is created and indexed whatever happens here.
	for i, base := range idx {
		if len(res[i].cands) > 0 {
			es := make([]indexEntry, len(res[i].cands))
			for j, id := range res[i].cands {
				es[j] = indexEntry{id, shardKey(base, shardOf(id, res[i].n))}
			}
			_, _ = r.indexedGrants(ctx, base, es, now)
		}
	}
	return res[0].pointer, nil
}

// GetGrant returns a grant, revoked or not, until it expires.
func (r *Redis) GetGrant(ctx context.Context, id string) (Grant, error) {
	if !token.IsID(id) {
		return Grant{}, notFound("grant " + id)
	}
	vals, err := r.rdb.HMGet(ctx, r.k.grant(id), "g", "c", "w", "o").Result()
	if err != nil {
		return Grant{}, unavailable("get grant", err)
	}
	return r.grantFrom(ctx, id, metaOf(vals), r.now())
}

// grantFrom decodes a grant read as m, ErrNotFound when it is absent or
// expired by the store's clock.
func (r *Redis) grantFrom(ctx context.Context, id string, m grantMeta, now time.Time) (Grant, error) {
	if m.g == "" {
		return Grant{}, notFound("grant " + id)
	}
	g, _, err := r.decodeGrant(ctx, id, m)
	if err != nil {
		return Grant{}, err
	}
	if !g.ExpiresAt.After(now) {
		return Grant{}, notFound("grant " + id)
	}
	return g, nil
}

// indexedGrants loads the grants named by entries of the index at base
// and returns the live ones, owned by the index's client or website. It
// removes dead entries (gone, expired, revoked, foreign) from their shards
// and raises the scores of grants that were extended.
func (r *Redis) indexedGrants(ctx context.Context, base string, entries []indexEntry, now time.Time) ([]Grant, error) {
	var live []Grant
	dead := map[string][]any{}
	raise := map[string][]redis.Z{}
	for start := 0; start < len(entries); start += 1000 {
		batch := entries[start:min(start+1000, len(entries))]
		pipe := r.rdb.Pipeline()
		cmds := make([]*redis.SliceCmd, len(batch))
		for i, e := range batch {
			cmds[i] = pipe.HMGet(ctx, r.k.grant(e.id), "g", "c", "w", "o")
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, unavailable("list grants", err)
		}
		for i, e := range batch {
			g, err := r.grantFrom(ctx, e.id, metaOf(cmds[i].Val()), now)
			if errors.Is(err, ErrUnavailable) {
				return nil, err
			}
			if err != nil || g.Revoked || // gone, expired or revoked
				(base != r.k.clientGrants(g.ClientID) && base != r.k.websiteGrants(g.WebsiteID)) {
				dead[e.shard] = append(dead[e.shard], e.id)
				continue
			}
			live = append(live, g)
			raise[e.shard] = append(raise[e.shard], redis.Z{Score: indexScore(g.ExpiresAt), Member: e.id})
		}
	}
	pipe := r.rdb.Pipeline()
	for shard, ids := range dead {
		pipe.ZRem(ctx, shard, ids...)
	}
	for shard, zs := range raise {
		pipe.ZAddArgs(ctx, shard, redis.ZAddArgs{XX: true, GT: true, Members: zs})
	}
	if len(dead)+len(raise) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, unavailable("prune grant index", err)
		}
	}
	slices.SortFunc(live, func(a, b Grant) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return live, nil
}

// ListGrants lists the live grants of a client or of a website (exactly one
// of the two IDs is set), oldest first, pruning the index as it goes.
func (r *Redis) ListGrants(ctx context.Context, clientID, websiteID string) ([]Grant, error) {
	key, err := r.grantIndex(clientID, websiteID)
	if err != nil {
		return nil, err
	}
	entries, err := r.indexMembers(ctx, key)
	if err != nil {
		return nil, unavailable("list grants", err)
	}
	return r.indexedGrants(ctx, key, entries, r.now())
}

func (r *Redis) grantIndex(clientID, websiteID string) (string, error) {
	switch {
	case clientID != "" && websiteID == "":
		return r.k.clientGrants(clientID), checkID("client", clientID)
	case websiteID != "" && clientID == "":
		return r.k.websiteGrants(websiteID), checkID("website", websiteID)
	}
	return "", errors.New("storage: ListGrants needs exactly one of client ID and website ID")
}

// IssueClientCredentials mints an access token with t's scopes and times
// in the client's live client-credentials grant, creating g when there is
// none, and returns the token's value and its grant. Concurrent callers
// share one grant: the client's pointer to it ({c:<id>}:cc) names it.
//
// Every step is one script that either succeeds or says why not, so
// nothing here retries:
//   - The store remembers each client's grant ID in process, so the
//     steady state is one script on the grant's slot (cc_issue.lua: is the
//     grant live, the client's and not full? store the token, extend the
//     grant), one round trip.
//   - Otherwise (first use in this process, or that grant was revoked,
//     expired or filled up: ccGrantMaxFields) ccNext reads the pointer and
//     tries the grant it names; failing that, it creates g with the token
//     in it (one script on g's slot) and indexes it, installing it as the
//     pointer unless another grant was installed meanwhile (one script on
//     the client's slot). The token is returned only once its grant is
//     indexed, so RevokeClient finds it.
//
// Concurrent callers of one process wait for one ccNext and then issue
// into the grant it leaves installed; a caller for which that fails runs
// ccNext itself.
func (r *Redis) IssueClientCredentials(ctx context.Context, g Grant, t Token) (string, Grant, error) {
	if g.WebsiteID != "" || g.OperatorID != "" {
		return "", Grant{}, errors.New("storage: a client-credentials grant has no website and no operator")
	}
	now := r.now()
	if err := r.prepareGrant(&g, now); err != nil {
		return "", Grant{}, err
	}
	if t.Kind != 0 && t.Kind != token.Access {
		return "", Grant{}, fmt.Errorf("storage: client credentials issue access tokens, not a %s", t.Kind)
	}
	if t.ExpiresAt.IsZero() {
		return "", Grant{}, errors.New("storage: token to store has no expiry")
	}
	t.Kind, t.ClientID = token.Access, g.ClientID
	if t.IssuedAt.IsZero() {
		t.IssuedAt = now
	}
	if _, err := r.saveScopeSets(ctx, g.Scopes, t.Scopes); err != nil {
		return "", Grant{}, err
	}
	dead := ""
	if gid, known := r.cc.get(g.ClientID); known {
		value, cur, ok, err := r.ccIssue(ctx, gid, t, now)
		if err != nil || ok {
			return value, cur, err
		}
		r.cc.forget(g.ClientID, gid)
		dead = gid
	}
	var value string
	var cur Grant
	ran := false
	next, err := r.cc.once(ctx, g.ClientID, func() (string, error) {
		ran = true
		var next string
		var err error
		value, cur, next, err = r.ccNext(ctx, g, t, dead, now)
		return next, err
	})
	if err != nil || ran {
		return value, cur, err
	}
	// Another caller ran ccNext: use the grant it left installed.
	value, cur, ok, err := r.ccIssue(ctx, next, t, now)
	if err != nil || ok {
		return value, cur, err
	}
	value, cur, _, err = r.ccNext(ctx, g, t, next, now)
	return value, cur, err
}

// ccIssue stores t in the client-credentials grant gid if it is live, the
// token's client's and not full (ok false otherwise).
func (r *Redis) ccIssue(ctx context.Context, gid string, t Token, now time.Time) (value string, g Grant, ok bool, err error) {
	value = token.New(token.Access, gid)
	h := token.Hash(value)
	res, err := ccIssueScript.run(ctx, r, ccIssueArgs{
		issueArgs: issueArgs{grant: r.k.grant(gid), now: now.UnixMilli(), newExp: msArg(t.ExpiresAt),
			toks: tokenBatch{recs: []tokenRec{{tokenField(h), tokenHeader(t), scopeSetID(t.Scopes)}}}},
		client: t.ClientID, maxFields: ccGrantMaxFields})
	if err != nil {
		return "", Grant{}, false, unavailable("issue client-credentials token", err)
	}
	if !res.ok {
		return "", Grant{}, false, nil
	}
	g, err = r.grantFrom(ctx, gid, res.meta, now)
	if err != nil {
		return "", Grant{}, false, err
	}
	if exp := time.UnixMilli(msArg(t.ExpiresAt)); exp.After(g.ExpiresAt) {
		g.ExpiresAt = exp // as the script just extended it
	}
	return value, g, true, nil
}

// ccNext stores t in the grant the client's pointer names, unless that is
// dead (a grant found dead or full), or else in g (prepared), created with
// t in it and installed as the pointer if the pointer still names no grant
// or dead. It returns the token, its grant and the grant installed
// afterwards, which the store remembers for the client.
func (r *Redis) ccNext(ctx context.Context, g Grant, t Token, dead string, now time.Time) (string, Grant, string, error) {
	cur, err := r.rdb.Get(ctx, r.k.clientCC(g.ClientID)).Result()
	if err != nil && !isNil(err) {
		return "", Grant{}, "", unavailable("client-credentials grant", err)
	}
	if cur != "" && cur != dead {
		value, cg, ok, err := r.ccIssue(ctx, cur, t, now)
		if ok {
			r.cc.put(g.ClientID, cur)
		}
		if err != nil || ok {
			return value, cg, cur, err
		}
		dead = cur
	}
	value := token.New(token.Access, g.ID)
	h := token.Hash(value)
	if exp := time.UnixMilli(msArg(t.ExpiresAt)); exp.After(g.ExpiresAt) {
		g.ExpiresAt = exp
	}
	next, err := r.createGrant(ctx, g, now, &ccFirst{
		tok: tokenRec{tokenField(h), tokenHeader(t), scopeSetID(t.Scopes)}, expect: dead})
	if err != nil {
		return "", Grant{}, "", err
	}
	r.cc.put(g.ClientID, next)
	return value, g, next, nil
}

// ccGrantMaxFields is how many fields a client-credentials grant's hash
// holds before the next token goes to a new grant: below Redis's
// hash-max-listpack-entries (128), so the hash stays a compact listpack
// (some 31 bytes a token) and the prune that scans it stays short. One
// grant for a busy plugin's every token would grow to millions of fields,
// and its prune would block Redis for seconds.
const ccGrantMaxFields = 120

// ccGrants remembers each client's client-credentials grant ID in process.
// A stale entry costs one script run that finds the grant dead, never a
// token in a dead grant: the issuing script checks the grant every time.
type ccGrants struct {
	mu     sync.Mutex
	m      map[string]string
	flight map[string]*ccCall
}

const ccGrantsMax = 1 << 14

func (c *ccGrants) get(clientID string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.m[clientID]
	return id, ok
}

func (c *ccGrants) put(clientID, grantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= ccGrantsMax {
		c.m = make(map[string]string) // bound memory: refill on demand
	}
	c.m[clientID] = grantID
}

// ccCall is one ccNext in flight, which concurrent callers for the same
// client wait for instead of each creating a grant.
type ccCall struct {
	done chan struct{}
	next string
	err  error
}

// once runs fn for clientID unless a run is in flight, whose result it then
// shares.
func (c *ccGrants) once(ctx context.Context, clientID string, fn func() (string, error)) (string, error) {
	c.mu.Lock()
	if call, ok := c.flight[clientID]; ok {
		c.mu.Unlock()
		select {
		case <-call.done:
			return call.next, call.err
		case <-ctx.Done():
			return "", unavailable("client-credentials grant", ctx.Err())
		}
	}
	if c.flight == nil {
		c.flight = make(map[string]*ccCall)
	}
	call := &ccCall{done: make(chan struct{})}
	c.flight[clientID] = call
	c.mu.Unlock()
	call.next, call.err = fn()
	c.mu.Lock()
	delete(c.flight, clientID)
	c.mu.Unlock()
	close(call.done)
	return call.next, call.err
}

// forget drops clientID's entry if it still names grantID.
func (c *ccGrants) forget(clientID, grantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[clientID] == grantID {
		delete(c.m, clientID)
	}
}

// prepared is a batch of tokens ready for a script: all of one grant.
type prepared struct {
	grantID   string
	toks      tokenBatch
	sets      []scopes.Set
	newExpiry time.Time
}

// prepareTokens hashes and encodes toks, which must all belong to one grant
// (wantGrant if not ""). Raw values go no further than this function.
func (r *Redis) prepareTokens(toks []NewToken, wantGrant string, now time.Time) (prepared, error) {
	p := prepared{grantID: wantGrant}
	for _, nt := range toks {
		kind, gid, err := token.Parse(nt.Value)
		if err != nil {
			return prepared{}, fmt.Errorf("storage: token to store: %w", err)
		}
		if p.grantID == "" {
			p.grantID = gid
		}
		switch {
		case gid != p.grantID:
			return prepared{}, fmt.Errorf("storage: tokens of grants %s and %s stored together", p.grantID, gid)
		case nt.GrantID != "" && nt.GrantID != gid:
			return prepared{}, fmt.Errorf("storage: token carries grant %s but its record says %s", gid, nt.GrantID)
		case nt.Kind != 0 && nt.Kind != kind:
			return prepared{}, fmt.Errorf("storage: token is a %s but its record says %s", kind, nt.Kind)
		case nt.ExpiresAt.IsZero():
			return prepared{}, errors.New("storage: token to store has no expiry")
		}
		t := nt.Token
		t.Kind = kind
		if t.IssuedAt.IsZero() {
			t.IssuedAt = now
		}
		h := token.Hash(nt.Value)
		if nt.SameScopes {
			if kind == token.Code {
				return prepared{}, errors.New("storage: a code cannot take the presented token's scopes")
			}
			p.toks.recs = append(p.toks.recs, tokenRec{tokenField(h), tokenHeader(t), "="})
		} else {
			p.toks.recs = append(p.toks.recs, tokenRec{tokenField(h), tokenHeader(t), scopeSetID(t.Scopes)})
			p.sets = append(p.sets, t.Scopes)
		}
		if kind == token.Code {
			p.toks.side = append(p.toks.side, sideRec{r.k.codeParams(gid, h), encodeCodeParams(t), ttlMillis(t.ExpiresAt, now)})
		}
		if t.ExpiresAt.After(p.newExpiry) {
			p.newExpiry = t.ExpiresAt
		}
	}
	return p, nil
}

// IssueTokens stores toks (all of one grant) atomically, only if the grant
// is live (ErrGrantRevoked otherwise, also when it is gone), and extends the
// grant's ExpiresAt and TTL to cover them. One round trip.
func (r *Redis) IssueTokens(ctx context.Context, toks ...NewToken) error {
	if len(toks) == 0 {
		return nil
	}
	now := r.now()
	p, err := r.prepareTokens(toks, "", now)
	if err != nil {
		return err
	}
	if _, err := r.saveScopeSets(ctx, p.sets...); err != nil {
		return err
	}
	ok, err := issueScript.run(ctx, r, issueArgs{grant: r.k.grant(p.grantID), now: now.UnixMilli(), newExp: msArg(p.newExpiry), toks: p.toks})
	if err != nil {
		return unavailable("issue tokens", err)
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrGrantRevoked, p.grantID)
	}
	return nil
}

// LookupToken returns a live token and its grant in one round trip: one
// HMGET of the grant's fields and the token's (plus, for a code, a GET of
// its parameters in the same MULTI). ErrNotFound for malformed, unknown,
// expired, used or revoked tokens and for tokens of a revoked or expired
// grant.
func (r *Redis) LookupToken(ctx context.Context, value string) (Token, Grant, error) {
	kind, gid, err := token.Parse(value)
	if err != nil {
		return Token{}, Grant{}, notFound("token")
	}
	h := token.Hash(value)
	gk := r.k.grant(gid)
	var vals []any
	var params string
	if kind != token.Code {
		// HMGet would box each field name; constants box for free.
		cmd := redis.NewSliceCmd(ctx, "hmget", gk, "g", "c", "w", "o", tokenField(h))
		_ = r.rdb.Process(ctx, cmd) // the error is the command's
		vals, err = cmd.Result()
	} else {
		var hm *redis.SliceCmd
		var get *redis.StringCmd
		_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			hm = p.HMGet(ctx, gk, "g", "c", "w", "o", tokenField(h))
			get = p.Get(ctx, r.k.codeParams(gid, h))
			return nil
		})
		if isNil(err) {
			err = nil
		}
		vals, params = hm.Val(), get.Val()
	}
	if err != nil {
		return Token{}, Grant{}, unavailable("lookup token", err)
	}
	rec, _ := vals[4].(string)
	return r.liveToken(ctx, metaOf(vals[:4]), rec, params, kind, gid, r.now())
}

// liveToken decodes a token record rec of the grant read as m (and a code's
// parameters) and checks that the token is live.
func (r *Redis) liveToken(ctx context.Context, m grantMeta, rec, params string, kind token.Kind, gid string, now time.Time) (Token, Grant, error) {
	if m.g == "" || rec == "" {
		return Token{}, Grant{}, notFound("token")
	}
	g, gssid, err := r.decodeGrant(ctx, gid, m)
	if err != nil {
		return Token{}, Grant{}, err
	}
	t, st, err := r.decodeToken(ctx, rec, g, gssid)
	if err != nil {
		return Token{}, Grant{}, err
	}
	// The revoked flag is checked as well as the record: revocation deletes
	// a grant's live tokens in the same step that sets it.
	if st != recLive || t.Kind != kind || g.Revoked || !t.ExpiresAt.After(now) || !g.ExpiresAt.After(now) {
		return Token{}, Grant{}, notFound("token")
	}
	if kind == token.Code {
		if params == "" {
			return Token{}, Grant{}, notFound("code")
		}
		if err := decodeCodeParams(params, &t); err != nil {
			return Token{}, Grant{}, err
		}
	}
	return t, g, nil
}

// replayed is the ErrReplayed of a script's stReplayed answer.
func replayed(res presented) error {
	return fmt.Errorf("%w (%d live tokens revoked)", ErrReplayed, res.replayed)
}

// presentedOf names the presented token value (of kind, in grant gid) for
// a script; withParams adds its code parameter key.
func (r *Redis) presentedOf(value string, kind token.Kind, gid string, now time.Time, withParams bool) presentedArgs {
	h := token.Hash(value)
	a := presentedArgs{grant: r.k.grant(gid), now: now.UnixMilli(), field: tokenField(h), kind: byte(kind)}
	if withParams {
		a.params = r.k.codeParams(gid, h)
	}
	return a
}

// peek implements GetCode and GetRefresh.
func (r *Redis) peek(ctx context.Context, value string, want token.Kind) (Token, Grant, error) {
	kind, gid, err := token.Parse(value)
	if err != nil || kind != want {
		return Token{}, Grant{}, notFound(want.String())
	}
	now := r.now()
	res, err := peekScript.run(ctx, r, r.presentedOf(value, kind, gid, now, kind == token.Code))
	if err != nil {
		return Token{}, Grant{}, unavailable("get "+want.String(), err)
	}
	switch res.status {
	case stOK:
		return r.liveToken(ctx, res.meta, res.rec, res.params, kind, gid, now)
	case stReplayed:
		return Token{}, Grant{}, replayed(res)
	}
	return Token{}, Grant{}, notFound(want.String())
}

// GetCode returns an unused code and its grant. A used code gives
// ErrReplayed, its grant having been revoked in the same atomic step.
func (r *Redis) GetCode(ctx context.Context, code string) (Token, Grant, error) {
	return r.peek(ctx, code, token.Code)
}

// GetRefresh returns an unused refresh token and its grant. A used one gives
// ErrReplayed, its grant having been revoked in the same atomic step.
func (r *Redis) GetRefresh(ctx context.Context, refresh string) (Token, Grant, error) {
	return r.peek(ctx, refresh, token.Refresh)
}

// redeem implements RedeemCode and RotateRefresh: one script marks the
// presented value used and stores toks, or finds it used and revokes the
// grant.
func (r *Redis) redeem(ctx context.Context, value string, want token.Kind, toks []NewToken) error {
	kind, gid, err := token.Parse(value)
	if err != nil || kind != want {
		return notFound(want.String())
	}
	now := r.now()
	p, err := r.prepareTokens(toks, gid, now)
	if err != nil {
		return err
	}
	if _, err := r.saveScopeSets(ctx, p.sets...); err != nil {
		return err
	}
	res, _, err := runDurable(ctx, r, redeemScript, r.redeemArgs(value, kind, gid, now, p)) // waits for replicas (durable.go)
	if err != nil {
		return unavailable("redeem "+want.String(), err)
	}
	switch res.status {
	case stOK:
		return nil
	case stReplayed:
		return replayed(res)
	}
	return notFound(want.String())
}

// RedeemChecked is RedeemCode or RotateRefresh (by the token's kind) with
// want checked in the same script: one round trip. Tokens with SameScopes
// are stored with the presented token's scopes, returned with the grant.
func (r *Redis) RedeemChecked(ctx context.Context, value string, want Redemption, toks ...NewToken) (Grant, scopes.Set, error) {
	kind, gid, err := token.Parse(value)
	if err != nil || kind == token.Access {
		return Grant{}, scopes.Set{}, notFound("code or refresh token")
	}
	now := r.now()
	p, err := r.prepareTokens(toks, gid, now)
	if err != nil {
		return Grant{}, scopes.Set{}, err
	}
	if _, err := r.saveScopeSets(ctx, p.sets...); err != nil {
		return Grant{}, scopes.Set{}, err
	}
	args := redeemCheckedArgs{redeemArgs: r.redeemArgs(value, kind, gid, now, p), want: want}
	res, err := redeemCheckedScript.run(ctx, r, args)
	if err != nil {
		return Grant{}, scopes.Set{}, unavailable("redeem "+kind.String(), err)
	}
	switch res.status {
	case stOK:
		g, err := r.grantFrom(ctx, gid, res.meta, now)
		if err != nil {
			return Grant{}, scopes.Set{}, err
		}
		set, err := r.scopeSet(ctx, res.ssid)
		if err != nil {
			return Grant{}, scopes.Set{}, err
		}
		if newExp := time.UnixMilli(args.newExp); newExp.After(g.ExpiresAt) {
			g.ExpiresAt = newExp // as the script just extended it
		}
		return g, set, nil
	case stReplayed:
		return Grant{}, scopes.Set{}, replayed(res)
	case stMismatch:
		return Grant{}, scopes.Set{}, &MismatchError{What: res.what}
	}
	return Grant{}, scopes.Set{}, notFound(kind.String())
}

// RedeemCode atomically marks the code used and stores toks (which must
// belong to the code's grant). Of concurrent redemptions exactly one
// succeeds; the others get ErrReplayed and the grant is revoked.
func (r *Redis) RedeemCode(ctx context.Context, code string, toks ...NewToken) error {
	return r.redeem(ctx, code, token.Code, toks)
}

// RotateRefresh atomically marks the refresh token used and stores toks
// (which must belong to its grant). Of concurrent rotations exactly one
// succeeds; the others get ErrReplayed and the grant is revoked.
func (r *Redis) RotateRefresh(ctx context.Context, refresh string, toks ...NewToken) error {
	return r.redeem(ctx, refresh, token.Refresh, toks)
}

// RevokeToken revokes an access token alone, or the whole grant of a
// refresh token or code (used or not). The token must be stored in its
// grant: a well-formed value naming a real grant but never issued revokes
// nothing. Malformed and unknown tokens count zero (RFC 7009 §2.2).
func (r *Redis) RevokeToken(ctx context.Context, value string) (Revocation, error) {
	kind, gid, err := token.Parse(value)
	if err != nil {
		return Revocation{}, nil
	}
	res, confirmed, err := runDurable(ctx, r, revokeTokenScript, r.presentedOf(value, kind, gid, r.now(), false)) // waits for replicas (durable.go)
	if err != nil {
		return Revocation{}, unavailable("revoke token", err)
	}
	rev := res.rev
	rev.Unconfirmed = !confirmed
	if res.owned {
		res.id = gid
		r.unindex(ctx, []revoked{res})
	}
	return rev, nil
}

// unindex removes revoked grants from their client and website indexes,
// given revoke scripts' answers with the grant ID filled in. Best effort:
// an index entry of a revoked grant is harmless (listings skip it and prune
// it), so a failure here neither undoes nor fails the revocation.
func (r *Redis) unindex(ctx context.Context, results []revoked) {
	var items [][2]string
	for _, res := range results {
		if res.client != "" {
			items = append(items, [2]string{r.k.clientGrants(res.client), res.id})
		}
		if res.website != "" {
			items = append(items, [2]string{r.k.websiteGrants(res.website), res.id})
		}
	}
	r.indexRemove(ctx, items) // best effort, see above
}

// RevokeGrant revokes a grant and all its tokens. Unknown or already
// revoked grants count zero.
func (r *Redis) RevokeGrant(ctx context.Context, grantID string) (Revocation, error) {
	if !token.IsID(grantID) {
		return Revocation{}, nil
	}
	return r.revokeGrants(ctx, []string{grantID}, "", "")
}

// RevokeClient revokes every grant of the client (those indexed when it
// starts; callers suspend the client first so no new ones appear). With
// ErrUnavailable, some grants may be revoked already (and counted); calling
// again is safe.
func (r *Redis) RevokeClient(ctx context.Context, clientID string) (Revocation, error) {
	if !validID(clientID) {
		return Revocation{}, nil
	}
	return r.revokeIndex(ctx, r.k.clientGrants(clientID), "c", clientID)
}

// RevokeWebsite revokes every grant for the website, like RevokeClient.
func (r *Redis) RevokeWebsite(ctx context.Context, websiteID string) (Revocation, error) {
	if !validID(websiteID) {
		return Revocation{}, nil
	}
	return r.revokeIndex(ctx, r.k.websiteGrants(websiteID), "w", websiteID)
}

func (r *Redis) revokeIndex(ctx context.Context, key, who, id string) (Revocation, error) {
	entries, err := r.indexMembers(ctx, key)
	if err != nil {
		return Revocation{}, unavailable("revoke", err)
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.id
	}
	rev, err := r.revokeGrants(ctx, ids, who, id)
	if err == nil && len(entries) > 0 {
		// Every entry read is now revoked, gone or foreign: drop them all
		// from the shards they were read from (best effort, as in unindex).
		byShard := map[string][]any{}
		for _, e := range entries {
			byShard[e.shard] = append(byShard[e.shard], e.id)
		}
		pipe := r.rdb.Pipeline()
		for shard, ids := range byShard {
			pipe.ZRem(ctx, shard, ids...)
		}
		_, _ = pipe.Exec(ctx)
	}
	return rev, err
}

// revokeGrants runs revokeGrantScript on each grant, pipelined, and then
// unindexes them. who/id restrict it to grants of that client (who "c") or
// website (who "w").
func (r *Redis) revokeGrants(ctx context.Context, ids []string, who, id string) (Revocation, error) {
	var total Revocation
	now := r.now().UnixMilli()
	calls := make([]scriptCall, len(ids))
	for i, gid := range ids {
		calls[i] = revokeGrantScript.call(revokeGrantArgs{grant: r.k.grant(gid), now: now, ownerField: who, owner: id})
	}
	var results []revoked
	var bad error
	confirmed, err := r.runScriptsDurable(ctx, revokeGrantScript.lua, calls, func(i int, v any) { // waits for replicas (durable.go)
		res, err := revokeGrantScript.result(v)
		if err != nil {
			bad = cmp.Or(bad, err)
			return
		}
		total = total.Add(res.rev)
		res.id = ids[i]
		results = append(results, res)
	})
	total.Unconfirmed = !confirmed
	if len(results) > 0 {
		r.unindex(ctx, results)
	}
	if err = cmp.Or(err, bad); err != nil {
		return total, unavailable("revoke grants", err)
	}
	return total, nil
}

type scriptCall struct {
	keys []string
	args []any
}

// runScripts runs s once per call, pipelined in batches (in Cluster the
// pipeline fans out to the nodes owning each grant), and hands each result
// to got. A script missing from a node's cache is loaded and retried.
func (r *Redis) runScripts(ctx context.Context, s *redis.Script, calls []scriptCall, got func(int, any)) error {
	if len(calls) == 1 {
		v, err := s.Run(ctx, r.rdb, calls[0].keys, calls[0].args...).Result()
		if err != nil {
			return err
		}
		got(0, v)
		return nil
	}
	loaded := false
	for start := 0; start < len(calls); start += 500 {
		batch := calls[start:min(start+500, len(calls))]
		pipe := r.rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(batch))
		for i, c := range batch {
			cmds[i] = s.EvalSha(ctx, pipe, c.keys, c.args...)
		}
		_, _ = pipe.Exec(ctx) // errors are read per command below
		for i, cmd := range cmds {
			v, err := cmd.Result()
			if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
				if !loaded {
					if err := s.Load(ctx, r.rdb).Err(); err != nil {
						return err
					}
					loaded = true
				}
				v, err = s.Run(ctx, r.rdb, batch[i].keys, batch[i].args...).Result()
			}
			if err != nil {
				return err
			}
			got(start+i, v)
		}
	}
	return nil
}

// msArg is a time as a script argument: Unix milliseconds, 0 for the zero
// time, clamped to what a record holds.
func msArg(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return max(0, min(t.UnixMilli(), maxMillis))
}

// redeemArgs is redeem.lua's arguments: the presented value (of kind, in
// grant gid) consumed, p stored.
func (r *Redis) redeemArgs(value string, kind token.Kind, gid string, now time.Time, p prepared) redeemArgs {
	keep, keepCap, newExp := usedRetention(kind, now, p.newExpiry)
	return redeemArgs{presentedArgs: r.presentedOf(value, kind, gid, now, true),
		keep: msArg(keep), keepCap: msArg(keepCap), newExp: msArg(newExp), toks: p.toks}
}

// usedRetention says how long a consumed code or refresh token is
// remembered as used: a code at least UsedCodeRetention (keep); a refresh
// token until its own expiry but at most UsedRefreshRetention (keepCap).
// The grant is kept as long: newExp is expiry extended to keep.
func usedRetention(kind token.Kind, now, expiry time.Time) (keep, keepCap, newExp time.Time) {
	if kind == token.Code {
		keep = now.Add(UsedCodeRetention)
	} else {
		keepCap = now.Add(UsedRefreshRetention)
	}
	newExp = expiry
	if keep.After(newExp) {
		newExp = keep
	}
	return keep, keepCap, newExp
}
