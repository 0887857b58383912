package conformance

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

func testGrantCreateGet(e *env) {
	now := e.now()
	g := storage.Grant{ID: token.NewID(), ClientID: "c1", WebsiteID: "w1", OperatorID: "op1",
		Scopes: grantScopes(), CreatedAt: now}
	e.must(e.s.CreateGrant(e.ctx, g), "CreateGrant")
	got, err := e.s.GetGrant(e.ctx, g.ID)
	e.must(err, "GetGrant")
	want := g
	want.ExpiresAt = now.Add(storage.EmptyGrantTTL) // zero ExpiresAt: the store's default
	if got.ID != want.ID || got.ClientID != want.ClientID || got.WebsiteID != want.WebsiteID ||
		got.OperatorID != want.OperatorID || got.Scopes != want.Scopes || !got.CreatedAt.Equal(want.CreatedAt) ||
		!got.ExpiresAt.Equal(want.ExpiresAt) || got.Revoked {
		e.t.Errorf("GetGrant = %+v, want %+v", got, want)
	}
	e.wantErr(e.s.CreateGrant(e.ctx, g), storage.ErrAlreadyExists, "CreateGrant again")

	// An explicit expiry is kept.
	g2 := storage.Grant{ID: token.NewID(), ClientID: "c1", Scopes: scopes.PluginScopes(), ExpiresAt: now.Add(time.Hour)}
	e.must(e.s.CreateGrant(e.ctx, g2), "CreateGrant with expiry")
	got2, err := e.s.GetGrant(e.ctx, g2.ID)
	e.must(err, "GetGrant")
	if !got2.ExpiresAt.Equal(now.Add(time.Hour)) || !got2.CreatedAt.Equal(now) || got2.WebsiteID != "" {
		e.t.Errorf("GetGrant = %+v, want expiry %v and created %v", got2, now.Add(time.Hour), now)
	}

	for _, id := range []string{token.NewID(), "not-a-grant-id", ""} {
		_, err := e.s.GetGrant(e.ctx, id)
		e.wantErr(err, storage.ErrNotFound, "GetGrant("+id+")")
	}
	if err := e.s.CreateGrant(e.ctx, storage.Grant{ID: "short", ClientID: "c1"}); err == nil {
		e.t.Error("CreateGrant with a malformed ID succeeded")
	}
}

func testIssueAndLookup(e *env) {
	g := e.grant("c1", "w1", time.Time{})
	access := e.tok(token.Access, g, time.Hour)
	narrow := e.tok(token.Access, g, time.Hour)
	narrow.Scopes = narrower()
	refresh := e.tok(token.Refresh, g, 30*24*time.Hour)
	refresh.Scopes = narrower()
	empty := e.tok(token.Access, g, time.Hour)
	empty.Scopes = scopes.Set{}
	// Beyond the grant: the store keeps what it is given (capping is the
	// caller's job).
	wider := e.tok(token.Access, g, time.Hour)
	wider.Scopes = scopes.All()
	e.issue(access, narrow, refresh)
	e.issue(empty)
	e.issue(wider)
	e.live(access, narrow, refresh, empty, wider)

	_, lg, err := e.s.LookupToken(e.ctx, access.Value)
	e.must(err, "LookupToken")
	if !lg.ExpiresAt.Equal(refresh.ExpiresAt) || lg.ClientID != "c1" || lg.WebsiteID != "w1" || lg.Scopes != g.Scopes {
		e.t.Errorf("grant = %+v, want it extended to the refresh token's expiry %v", lg, refresh.ExpiresAt)
	}
	gg, err := e.s.GetGrant(e.ctx, g.ID)
	e.must(err, "GetGrant")
	if !gg.ExpiresAt.Equal(refresh.ExpiresAt) {
		e.t.Errorf("GetGrant expiry = %v, want %v", gg.ExpiresAt, refresh.ExpiresAt)
	}

	for name, v := range map[string]string{
		"unknown":     token.New(token.Access, g.ID),
		"other grant": token.New(token.Access, token.NewID()),
		"malformed":   "sga_nope",
		"checksum":    access.Value[:len(access.Value)-1] + flip(access.Value[len(access.Value)-1]),
		"empty":       "",
	} {
		_, _, err := e.s.LookupToken(e.ctx, v)
		e.wantErr(err, storage.ErrNotFound, "LookupToken "+name)
	}
}

func testScopeSubsets(e *env) {
	// A grant of every scope; tokens with many different subsets of it,
	// with other scopes, and with none, all read back exactly.
	g := storage.Grant{ID: token.NewID(), ClientID: "c1", WebsiteID: "w1", Scopes: scopes.All()}
	e.must(e.s.CreateGrant(e.ctx, g), "CreateGrant")
	all := scopes.All().Strings()
	var toks []storage.NewToken
	for step := 1; step <= len(all); step += 3 {
		for offset := range min(step, 3) {
			var picked []string
			for i := offset; i < len(all); i += step {
				picked = append(picked, all[i])
			}
			t := e.tok(token.Access, g, time.Hour)
			t.Scopes = scopes.MustParse(strings.Join(picked, " "))
			toks = append(toks, t)
		}
	}
	last := e.tok(token.Refresh, g, time.Hour)
	last.Scopes = scopes.MustParse(all[len(all)-1])
	none := e.tok(token.Access, g, time.Hour)
	none.Scopes = scopes.Set{}
	toks = append(toks, last, none)
	e.issue(toks...)
	e.live(toks...)

	small := e.grant("c1", "w1", time.Time{}) // grantScopes(): five website scopes
	outside := e.tok(token.Access, small, time.Hour)
	outside.Scopes = scopes.MustParse(all[0] + " " + all[len(all)-1])
	e.issue(outside)
	e.live(outside)
}

func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func testIssueValidation(e *env) {
	g1 := e.grant("c1", "w1", time.Time{})
	g2 := e.grant("c1", "w2", time.Time{})
	a1 := e.tok(token.Access, g1, time.Hour)
	badKind := e.tok(token.Access, g1, time.Hour)
	badKind.Kind = token.Refresh
	noExp := e.tok(token.Access, g1, time.Hour)
	noExp.ExpiresAt = time.Time{}
	badGrant := e.tok(token.Access, g1, time.Hour)
	badGrant.GrantID = g2.ID
	for _, tc := range []struct {
		name string
		toks []storage.NewToken
	}{
		{"two grants", []storage.NewToken{a1, e.tok(token.Access, g2, time.Hour)}},
		{"kind mismatch", []storage.NewToken{a1, badKind}},
		{"no expiry", []storage.NewToken{a1, noExp}},
		{"grant mismatch", []storage.NewToken{a1, badGrant}},
		{"malformed value", []storage.NewToken{a1, {Value: "sga_x", Token: a1.Token}}},
	} {
		if err := e.s.IssueTokens(e.ctx, tc.toks...); err == nil || errors.Is(err, storage.ErrUnavailable) {
			e.t.Errorf("IssueTokens(%s) = %v, want a validation error", tc.name, err)
		}
	}
	e.dead(a1) // nothing of a rejected batch is stored
	e.must(e.s.IssueTokens(e.ctx), "IssueTokens()")
}

func testIssueIntoDeadGrant(e *env) {
	unknown := storage.Grant{ID: token.NewID(), ClientID: "c1"}
	e.wantErr(e.s.IssueTokens(e.ctx, e.tok(token.Access, unknown, time.Hour)), storage.ErrGrantRevoked, "IssueTokens into an unknown grant")

	revoked := e.grant("c1", "w1", time.Time{})
	_, err := e.s.RevokeGrant(e.ctx, revoked.ID)
	e.must(err, "RevokeGrant")
	a := e.tok(token.Access, revoked, time.Hour)
	e.wantErr(e.s.IssueTokens(e.ctx, a), storage.ErrGrantRevoked, "IssueTokens into a revoked grant")
	e.dead(a)

	expired := e.grant("c1", "w1", e.now().Add(time.Minute))
	e.f.Clock.Advance(2 * time.Minute)
	b := e.tok(token.Access, expired, time.Hour)
	e.wantErr(e.s.IssueTokens(e.ctx, b), storage.ErrGrantRevoked, "IssueTokens into an expired grant")
	e.dead(b)
}

func testExpiry(e *env) {
	g := e.grant("c1", "w1", time.Time{})
	access := e.tok(token.Access, g, time.Hour)
	refresh := e.tok(token.Refresh, g, 2*time.Hour)
	e.issue(access, refresh)

	e.f.Clock.Advance(time.Hour - time.Millisecond)
	e.live(access, refresh)
	e.f.Clock.Advance(time.Millisecond) // exactly at expiry: expired
	e.dead(access)
	e.live(refresh)
	if _, _, err := e.s.GetRefresh(e.ctx, refresh.Value); err != nil {
		e.t.Errorf("GetRefresh before its expiry: %v", err)
	}

	e.f.Clock.Advance(time.Hour)
	e.dead(refresh)
	_, _, err := e.s.GetRefresh(e.ctx, refresh.Value)
	e.wantErr(err, storage.ErrNotFound, "GetRefresh after expiry")
	e.wantErr(e.s.RotateRefresh(e.ctx, refresh.Value, e.tok(token.Access, g, time.Hour)), storage.ErrNotFound, "RotateRefresh after expiry")
	_, err = e.s.GetGrant(e.ctx, g.ID)
	e.wantErr(err, storage.ErrNotFound, "GetGrant after its last token expired")
	gs, err := e.s.ListGrants(e.ctx, "c1", "")
	e.must(err, "ListGrants")
	if len(gs) != 0 {
		e.t.Errorf("ListGrants = %d grants, want none", len(gs))
	}
}

func testCode(e *env) {
	g := e.grant("c1", "w1", time.Time{})
	code := e.code(g)
	code.Scopes = narrower()
	e.issue(code)
	e.live(code)

	got, gg, err := e.s.GetCode(e.ctx, code.Value)
	e.must(err, "GetCode")
	sameToken(e.t, got, code.Token)
	if gg.ID != g.ID || gg.Revoked {
		e.t.Errorf("GetCode grant = %+v", gg)
	}

	access, refresh := e.tok(token.Access, g, time.Hour), e.tok(token.Refresh, g, 24*time.Hour)
	e.must(e.s.RedeemCode(e.ctx, code.Value, access, refresh), "RedeemCode")
	e.live(access, refresh)
	e.dead(code)

	_, _, err = e.s.GetCode(e.ctx, code.Value)
	e.wantErr(err, storage.ErrReplayed, "GetCode of a used code")
	e.dead(access, refresh)
	gg, err = e.s.GetGrant(e.ctx, g.ID)
	e.must(err, "GetGrant")
	if !gg.Revoked {
		e.t.Error("grant not revoked after a code replay")
	}
	e.wantErr(e.s.RedeemCode(e.ctx, code.Value, e.tok(token.Access, g, time.Hour)), storage.ErrReplayed, "RedeemCode again")
}

func testCodeExpired(e *env) {
	g := e.grant("c1", "w1", time.Time{})
	code := e.code(g)
	other := e.tok(token.Access, g, time.Hour)
	e.issue(code, other)
	e.f.Clock.Advance(time.Minute)
	_, _, err := e.s.GetCode(e.ctx, code.Value)
	e.wantErr(err, storage.ErrNotFound, "GetCode after expiry")
	e.wantErr(e.s.RedeemCode(e.ctx, code.Value, e.tok(token.Access, g, time.Hour)), storage.ErrNotFound, "RedeemCode after expiry")
	e.live(other) // an expired code is not a replay
}

func testCodeReplayWithinRetention(e *env) {
	g := e.grant("c1", "w1", time.Time{})
	code := e.code(g) // expires in a minute
	e.issue(code)
	access := e.tok(token.Access, g, time.Hour)
	e.must(e.s.RedeemCode(e.ctx, code.Value, access), "RedeemCode")
	// Long after the code's own expiry, within the used-code retention.
	e.f.Clock.Advance(storage.UsedCodeRetention - time.Second)
	e.live(access)
	e.wantErr(e.s.RedeemCode(e.ctx, code.Value, e.tok(token.Access, g, time.Hour)), storage.ErrReplayed, "replay 10 minutes later")
	e.dead(access)
}

// redeemRace has n goroutines present one code or refresh token at once.
func redeemRace(e *env, kind token.Kind) {
	const n = 64
	g := e.grant("c1", "w1", time.Time{})
	presented := e.tok(kind, g, time.Hour)
	if kind == token.Code {
		presented = e.code(g)
	}
	e.issue(presented)
	minted := make([]storage.NewToken, n)
	for i := range minted {
		minted[i] = e.tok(token.Access, g, time.Hour)
	}
	errs := race(n, func(i int) error {
		if kind == token.Code {
			return e.s.RedeemCode(e.ctx, presented.Value, minted[i])
		}
		return e.s.RotateRefresh(e.ctx, presented.Value, minted[i])
	})
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, storage.ErrReplayed):
			e.t.Errorf("goroutine %d: %v, want nil or ErrReplayed", i, err)
		}
	}
	if ok != 1 {
		e.t.Errorf("%d of %d concurrent redemptions succeeded, want exactly 1", ok, n)
	}
	e.dead(minted...) // the losers' replays revoked the winner's grant
	gg, err := e.s.GetGrant(e.ctx, g.ID)
	e.must(err, "GetGrant")
	if !gg.Revoked {
		e.t.Error("grant not revoked after concurrent redemption")
	}
}

func testCodeRace(e *env)    { redeemRace(e, token.Code) }
func testRefreshRace(e *env) { redeemRace(e, token.Refresh) }

func testRefresh(e *env) {
	g := e.grant("c1", "w1", time.Time{})
	r1 := e.tok(token.Refresh, g, 24*time.Hour)
	a1 := e.tok(token.Access, g, time.Hour)
	e.issue(a1, r1)
	got, gg, err := e.s.GetRefresh(e.ctx, r1.Value)
	e.must(err, "GetRefresh")
	sameToken(e.t, got, r1.Token)
	if gg.ID != g.ID {
		e.t.Errorf("GetRefresh grant = %s, want %s", gg.ID, g.ID)
	}

	e.f.Clock.Advance(time.Minute)
	a2 := e.tok(token.Access, g, time.Hour)
	a2.Scopes = narrower()
	r2 := e.tok(token.Refresh, g, 24*time.Hour)
	r2.Scopes = narrower()
	e.must(e.s.RotateRefresh(e.ctx, r1.Value, a2, r2), "RotateRefresh")
	e.live(a1, a2, r2)
	e.dead(r1)

	_, _, err = e.s.GetRefresh(e.ctx, r1.Value)
	e.wantErr(err, storage.ErrReplayed, "GetRefresh of a rotated refresh token")
	e.dead(a1, a2, r2)
	e.wantErr(e.s.RotateRefresh(e.ctx, r2.Value, e.tok(token.Access, g, time.Hour)), storage.ErrNotFound, "RotateRefresh of a revoked grant's token")
}

func testRefreshReplayOldGeneration(e *env) {
	g := e.grant("c1", "w1", time.Time{})
	gens := []storage.NewToken{e.tok(token.Refresh, g, 24*time.Hour)}
	e.issue(gens[0])
	for i := range 3 {
		e.f.Clock.Advance(time.Hour)
		next := e.tok(token.Refresh, g, 24*time.Hour)
		e.must(e.s.RotateRefresh(e.ctx, gens[i].Value, next), "RotateRefresh")
		gens = append(gens, next)
	}
	e.live(gens[3])
	e.wantErr(e.s.RotateRefresh(e.ctx, gens[0].Value, e.tok(token.Refresh, g, time.Hour)), storage.ErrReplayed, "RotateRefresh with the first generation")
	e.dead(gens[3])
}

// testRefreshReplayRetention: a rotated refresh token is remembered as used
// for UsedRefreshRetention even when it would live longer, then forgotten
// (a plain not-found that revokes nothing), so markers stay bounded.
func testRefreshReplayRetention(e *env) {
	g := e.grant("c1", "w1", time.Time{})
	old := e.tok(token.Refresh, g, 30*24*time.Hour)
	e.issue(old)
	next := e.tok(token.Refresh, g, 30*24*time.Hour)
	e.must(e.s.RotateRefresh(e.ctx, old.Value, next), "RotateRefresh")
	e.f.Clock.Advance(storage.UsedRefreshRetention - time.Minute)
	_, _, err := e.s.GetRefresh(e.ctx, old.Value)
	e.wantErr(err, storage.ErrReplayed, "GetRefresh of a rotated token within the retention")

	g2 := e.grant("c1", "w1", time.Time{})
	old2 := e.tok(token.Refresh, g2, 30*24*time.Hour)
	e.issue(old2)
	next2 := e.tok(token.Refresh, g2, 30*24*time.Hour)
	e.must(e.s.RotateRefresh(e.ctx, old2.Value, next2), "RotateRefresh")
	e.f.Clock.Advance(storage.UsedRefreshRetention + time.Minute)
	_, _, err = e.s.GetRefresh(e.ctx, old2.Value)
	e.wantErr(err, storage.ErrNotFound, "GetRefresh of a rotated token past the retention")
	e.live(next2) // forgotten, not replayed: the grant lives
}

func testWrongKind(e *env) {
	g := e.grant("c1", "w1", time.Time{})
	code, access, refresh := e.code(g), e.tok(token.Access, g, time.Hour), e.tok(token.Refresh, g, time.Hour)
	e.issue(code, access, refresh)
	next := e.tok(token.Access, g, time.Hour)
	_, _, err := e.s.GetCode(e.ctx, refresh.Value)
	e.wantErr(err, storage.ErrNotFound, "GetCode(refresh)")
	_, _, err = e.s.GetRefresh(e.ctx, code.Value)
	e.wantErr(err, storage.ErrNotFound, "GetRefresh(code)")
	e.wantErr(e.s.RedeemCode(e.ctx, access.Value, next), storage.ErrNotFound, "RedeemCode(access)")
	e.wantErr(e.s.RotateRefresh(e.ctx, code.Value, next), storage.ErrNotFound, "RotateRefresh(code)")
	e.wantErr(e.s.RedeemCode(e.ctx, "sgc_garbage", next), storage.ErrNotFound, "RedeemCode(malformed)")
	e.live(code, access, refresh)
	e.dead(next)
}

func testRedeemWithForeignTokens(e *env) {
	g1 := e.grant("c1", "w1", time.Time{})
	g2 := e.grant("c1", "w2", time.Time{})
	code := e.code(g1)
	e.issue(code)
	foreign := e.tok(token.Access, g2, time.Hour)
	if err := e.s.RedeemCode(e.ctx, code.Value, foreign); err == nil || errors.Is(err, storage.ErrReplayed) {
		e.t.Errorf("RedeemCode with another grant's token = %v, want a validation error", err)
	}
	e.dead(foreign)
	if _, _, err := e.s.GetCode(e.ctx, code.Value); err != nil {
		e.t.Errorf("code after a rejected redemption: %v, want still unused", err)
	}
}

func testRevokeToken(e *env) {
	g := e.grant("c1", "w1", time.Time{})
	a1, a2 := e.tok(token.Access, g, time.Hour), e.tok(token.Access, g, time.Hour)
	short := e.tok(token.Access, g, time.Minute)
	r1 := e.tok(token.Refresh, g, 24*time.Hour)
	e.issue(a1, a2, short, r1)

	rev, err := e.s.RevokeToken(e.ctx, a1.Value)
	e.wantRevocation(rev, err, storage.Revocation{Tokens: 1}, "RevokeToken(access)")
	e.dead(a1)
	e.live(a2, short, r1)
	rev, err = e.s.RevokeToken(e.ctx, a1.Value)
	e.wantRevocation(rev, err, storage.Revocation{}, "RevokeToken(access) again")

	e.f.Clock.Advance(2 * time.Minute) // short expires: not counted below
	rev, err = e.s.RevokeToken(e.ctx, r1.Value)
	e.wantRevocation(rev, err, storage.Revocation{Grants: 1, Tokens: 2}, "RevokeToken(refresh)")
	e.dead(a2, r1)
	gg, err := e.s.GetGrant(e.ctx, g.ID)
	e.must(err, "GetGrant")
	if !gg.Revoked {
		e.t.Error("grant not revoked by its refresh token")
	}

	// A code revokes its grant.
	g2 := e.grant("c1", "w1", time.Time{})
	code := e.code(g2)
	e.issue(code)
	rev, err = e.s.RevokeToken(e.ctx, code.Value)
	e.wantRevocation(rev, err, storage.Revocation{Grants: 1, Tokens: 1}, "RevokeToken(code)")
	e.dead(code)

	// A used refresh token (rotated) still names its grant.
	g3 := e.grant("c1", "w1", time.Time{})
	old := e.tok(token.Refresh, g3, time.Hour)
	e.issue(old)
	next, acc := e.tok(token.Refresh, g3, time.Hour), e.tok(token.Access, g3, time.Hour)
	e.must(e.s.RotateRefresh(e.ctx, old.Value, next, acc), "RotateRefresh")
	rev, err = e.s.RevokeToken(e.ctx, old.Value)
	e.wantRevocation(rev, err, storage.Revocation{Grants: 1, Tokens: 2}, "RevokeToken(used refresh)")
	e.dead(next, acc)

	for name, v := range map[string]string{
		"unknown":   token.New(token.Access, token.NewID()),
		"malformed": "not a token",
		"empty":     "",
	} {
		rev, err := e.s.RevokeToken(e.ctx, v)
		e.wantRevocation(rev, err, storage.Revocation{}, "RevokeToken("+name+")")
	}
}

func testRevokeTokenForged(e *env) {
	// Anyone can mint a well-formed token naming a real grant (the grant ID
	// is not secret, the checksum is a CRC). It must revoke nothing.
	g := e.grant("c1", "w1", time.Time{})
	access, refresh, code := e.tok(token.Access, g, time.Hour), e.tok(token.Refresh, g, time.Hour), e.code(g)
	e.issue(access, refresh, code)
	for _, kind := range []token.Kind{token.Refresh, token.Code, token.Access} {
		forged := token.New(kind, g.ID)
		if _, _, err := token.Parse(forged); err != nil {
			e.t.Fatalf("forged token does not parse: %v", err)
		}
		rev, err := e.s.RevokeToken(e.ctx, forged)
		e.wantRevocation(rev, err, storage.Revocation{}, "RevokeToken(forged "+kind.String()+")")
		_, _, err = e.s.LookupToken(e.ctx, forged)
		e.wantErr(err, storage.ErrNotFound, "LookupToken(forged)")
	}
	_, _, err := e.s.GetRefresh(e.ctx, token.New(token.Refresh, g.ID))
	e.wantErr(err, storage.ErrNotFound, "GetRefresh(forged)")
	e.wantErr(e.s.RedeemCode(e.ctx, token.New(token.Code, g.ID)), storage.ErrNotFound, "RedeemCode(forged)")
	e.live(access, refresh, code)
}

func testRevokeGrant(e *env) {
	g := e.grant("c1", "w1", time.Time{})
	toks := []storage.NewToken{e.tok(token.Access, g, time.Hour), e.tok(token.Access, g, time.Minute), e.tok(token.Refresh, g, 24*time.Hour)}
	e.issue(toks...)
	other := e.grant("c1", "w1", time.Time{})
	otherTok := e.tok(token.Access, other, time.Hour)
	e.issue(otherTok)
	expired := e.grant("c1", "w1", e.now().Add(time.Minute))
	e.f.Clock.Advance(2 * time.Minute)
	rev, err := e.s.RevokeGrant(e.ctx, expired.ID)
	e.wantRevocation(rev, err, storage.Revocation{}, "RevokeGrant(expired grant)")

	hashed := e.count(Records)
	rev, err = e.s.RevokeGrant(e.ctx, g.ID)
	e.wantRevocation(rev, err, storage.Revocation{Grants: 1, Tokens: 2}, "RevokeGrant")
	e.dead(toks...)
	e.live(otherTok)
	// Revocation frees the tokens' records at once (not only at expiry).
	if after := e.count(Records); after != hashed-int64(len(toks)) {
		e.t.Errorf("hash entries %d before revoking a grant of %d tokens, %d after: want them all deleted", hashed, len(toks), after)
	}
	rev, err = e.s.RevokeGrant(e.ctx, g.ID)
	e.wantRevocation(rev, err, storage.Revocation{}, "RevokeGrant again")
	for _, id := range []string{token.NewID(), "bad id", ""} {
		rev, err = e.s.RevokeGrant(e.ctx, id)
		e.wantRevocation(rev, err, storage.Revocation{}, "RevokeGrant("+id+")")
	}
	gg, err := e.s.GetGrant(e.ctx, g.ID)
	e.must(err, "GetGrant")
	if !gg.Revoked {
		e.t.Error("GetGrant: not revoked")
	}
	gs, err := e.s.ListGrants(e.ctx, "c1", "")
	e.must(err, "ListGrants")
	if len(gs) != 1 || gs[0].ID != other.ID {
		e.t.Errorf("ListGrants = %v, want only %s", grantIDs(gs), other.ID)
	}
}

func grantIDs(gs []storage.Grant) []string {
	ids := make([]string, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	return ids
}

// world is two clients on two websites plus a client-credentials grant:
// A@W1 (2 tokens), A@W2 (3), A itself (1), B@W1 (2), B@W2 (1).
type world struct {
	aw1, aw2, acc, bw1, bw2 storage.Grant
	toks                    map[string][]storage.NewToken // by grant ID
}

func (e *env) world() world {
	w := world{toks: map[string][]storage.NewToken{}}
	w.aw1 = e.grant("A", "W1", time.Time{})
	w.aw2 = e.grant("A", "W2", time.Time{})
	w.acc = e.grant("A", "", time.Time{})
	w.bw1 = e.grant("B", "W1", time.Time{})
	w.bw2 = e.grant("B", "W2", time.Time{})
	for _, x := range []struct {
		g *storage.Grant
		n int
	}{{&w.aw1, 2}, {&w.aw2, 3}, {&w.acc, 1}, {&w.bw1, 2}, {&w.bw2, 1}} {
		var toks []storage.NewToken
		for i := range x.n {
			if i == 0 && x.g.WebsiteID != "" {
				toks = append(toks, e.tok(token.Refresh, *x.g, 24*time.Hour))
			} else {
				toks = append(toks, e.tok(token.Access, *x.g, time.Hour))
			}
		}
		e.issue(toks...)
		w.toks[x.g.ID] = toks
	}
	return w
}

func (e *env) checkGrants(clientID, websiteID string, want ...storage.Grant) {
	e.t.Helper()
	gs, err := e.s.ListGrants(e.ctx, clientID, websiteID)
	e.must(err, "ListGrants")
	got := grantIDs(gs)
	wantIDs := grantIDs(want)
	slices.Sort(got)
	slices.Sort(wantIDs)
	if !slices.Equal(got, wantIDs) {
		e.t.Errorf("ListGrants(%q, %q) = %v, want %v", clientID, websiteID, got, wantIDs)
	}
}

func testRevokeClient(e *env) {
	w := e.world()
	rev, err := e.s.RevokeClient(e.ctx, "A")
	e.wantRevocation(rev, err, storage.Revocation{Grants: 3, Tokens: 6}, "RevokeClient(A)")
	for _, g := range []storage.Grant{w.aw1, w.aw2, w.acc} {
		e.dead(w.toks[g.ID]...)
	}
	for _, g := range []storage.Grant{w.bw1, w.bw2} {
		e.live(w.toks[g.ID]...)
	}
	e.checkGrants("A", "")
	e.checkGrants("B", "", w.bw1, w.bw2)
	e.checkGrants("", "W1", w.bw1)
	e.checkGrants("", "W2", w.bw2)
	rev, err = e.s.RevokeClient(e.ctx, "A")
	e.wantRevocation(rev, err, storage.Revocation{}, "RevokeClient(A) again")
	rev, err = e.s.RevokeClient(e.ctx, "nobody")
	e.wantRevocation(rev, err, storage.Revocation{}, "RevokeClient(nobody)")
}

func testRevokeWebsite(e *env) {
	w := e.world()
	rev, err := e.s.RevokeWebsite(e.ctx, "W1")
	e.wantRevocation(rev, err, storage.Revocation{Grants: 2, Tokens: 4}, "RevokeWebsite(W1)")
	e.dead(append(w.toks[w.aw1.ID], w.toks[w.bw1.ID]...)...)
	for _, g := range []storage.Grant{w.aw2, w.acc, w.bw2} {
		e.live(w.toks[g.ID]...)
	}
	e.checkGrants("", "W1")
	e.checkGrants("", "W2", w.aw2, w.bw2)
	e.checkGrants("A", "", w.aw2, w.acc)
	e.checkGrants("B", "", w.bw2)
	rev, err = e.s.RevokeWebsite(e.ctx, "W1")
	e.wantRevocation(rev, err, storage.Revocation{}, "RevokeWebsite(W1) again")
}

func testListGrants(e *env) {
	first := e.grant("c1", "w1", time.Time{})
	e.f.Clock.Advance(time.Second)
	second := e.grant("c1", "w2", time.Time{})
	e.f.Clock.Advance(time.Second)
	revoked := e.grant("c1", "w1", time.Time{})
	short := e.grant("c1", "w1", e.now().Add(time.Minute))
	_, err := e.s.RevokeGrant(e.ctx, revoked.ID)
	e.must(err, "RevokeGrant")
	e.checkGrants("c1", "", first, second, short)

	// A grant created with the default lifetime and then extended by its
	// tokens must stay listed after its original expiry.
	e.issue(e.tok(token.Access, first, time.Hour))
	e.issue(e.tok(token.Access, second, time.Hour))
	e.f.Clock.Advance(storage.EmptyGrantTTL + time.Minute)
	gs, err := e.s.ListGrants(e.ctx, "c1", "")
	e.must(err, "ListGrants")
	if got := grantIDs(gs); !slices.Equal(got, []string{first.ID, second.ID}) {
		e.t.Errorf("ListGrants = %v, want [%s %s] (oldest first)", got, first.ID, second.ID)
	}
	e.checkGrants("", "w1", first)
	e.checkGrants("", "w2", second)
	e.checkGrants("c2", "")

	for _, tc := range []struct{ c, w string }{{"", ""}, {"c1", "w1"}} {
		if _, err := e.s.ListGrants(e.ctx, tc.c, tc.w); err == nil {
			e.t.Errorf("ListGrants(%q, %q): no error, want one (exactly one of the two)", tc.c, tc.w)
		}
	}
}

func testIndexPruning(e *env) {
	// 40 grants expire; later activity must shrink the indexes back to the
	// live grants (indexes are sorted sets, the only ones the store keeps).
	for range 40 {
		e.grant("c1", "w1", e.now().Add(time.Minute))
	}
	before := e.count(IndexEntries)
	if before < 80 {
		e.t.Fatalf("indexes hold %d entries for 40 grants of one client and one website, want >= 80", before)
	}
	e.f.Clock.Advance(2 * time.Minute)
	live := e.grant("c1", "w1", time.Time{})
	e.checkGrants("c1", "", live)
	e.checkGrants("", "w1", live)
	if n := e.count(IndexEntries); n != 2 {
		e.t.Errorf("after expiry and listing, indexes hold %d entries, want 2 (one live grant, two indexes)", n)
	}
	// Revocation, by grant or by refresh token, also unindexes.
	other := e.grant("c2", "w2", time.Time{})
	refresh := e.tok(token.Refresh, other, time.Hour)
	e.issue(refresh)
	_, err := e.s.RevokeGrant(e.ctx, live.ID)
	e.must(err, "RevokeGrant")
	_, err = e.s.RevokeToken(e.ctx, refresh.Value)
	e.must(err, "RevokeToken")
	if n := e.count(IndexEntries); n != 0 {
		e.t.Errorf("after revocation, indexes hold %d entries, want 0", n)
	}
}

// testBigIndexes: a client with hundreds of grants (an index a store may
// split into parts as it grows, concurrently) still lists, prunes and
// revokes every one of them exactly.
func testBigIndexes(e *env) {
	const n, websites = 600, 4
	gs := make([]storage.Grant, n)
	for i := range gs {
		gs[i] = storage.Grant{ID: token.NewID(), ClientID: "big", WebsiteID: "w" + strconv.Itoa(i%websites),
			OperatorID: "op1", Scopes: grantScopes(), CreatedAt: e.now(), ExpiresAt: e.now().Add(time.Hour)}
		if i%3 == 0 { // a third expire early
			gs[i].ExpiresAt = e.now().Add(time.Minute)
		}
	}
	for start := 0; start < n; start += 50 { // 50 at once
		for _, err := range race(50, func(i int) error { return e.s.CreateGrant(e.ctx, gs[start+i]) }) {
			e.must(err, "CreateGrant")
		}
	}
	all, err := e.s.ListGrants(e.ctx, "big", "")
	e.must(err, "ListGrants")
	if len(all) != n {
		e.t.Fatalf("ListGrants of a client with %d grants = %d grants", n, len(all))
	}
	var live []storage.Grant
	revoked := 0
	for i, g := range gs {
		switch {
		case i%3 == 0:
		case i%3 == 1 && i%5 == 0:
			rev, err := e.s.RevokeGrant(e.ctx, g.ID)
			e.wantRevocation(rev, err, storage.Revocation{Grants: 1}, "RevokeGrant")
			revoked++
		default:
			live = append(live, g)
		}
	}
	e.f.Clock.Advance(2 * time.Minute)
	e.checkGrants("big", "", live...)
	for w := range websites {
		var want []storage.Grant
		for _, g := range live {
			if g.WebsiteID == "w"+strconv.Itoa(w) {
				want = append(want, g)
			}
		}
		e.checkGrants("", "w"+strconv.Itoa(w), want...)
	}
	if got := e.count(IndexEntries); got != int64(2*len(live)) {
		e.t.Errorf("after listing, indexes hold %d entries for %d live grants in two indexes each, want %d", got, len(live), 2*len(live))
	}
	rev, err := e.s.RevokeClient(e.ctx, "big")
	e.wantRevocation(rev, err, storage.Revocation{Grants: len(live)}, "RevokeClient(big)")
	e.checkGrants("big", "")
	e.checkGrants("", "w0")
	if got := e.count(IndexEntries); got != 0 {
		e.t.Errorf("after RevokeClient, indexes hold %d entries, want 0", got)
	}
}

// cc issues a client-credentials access token of the plugin scopes for
// clientID, living ttl, offering a new grant, and returns the token as a
// NewToken of the grant it went into.
func (e *env) cc(clientID string, scope scopes.Set, ttl time.Duration) (storage.NewToken, storage.Grant) {
	e.t.Helper()
	t := storage.Token{Kind: token.Access, ClientID: clientID, Scopes: scope, IssuedAt: e.now(), ExpiresAt: e.now().Add(ttl)}
	v, g, err := e.s.IssueClientCredentials(e.ctx, storage.Grant{ID: token.NewID(), ClientID: clientID, Scopes: scopes.PluginScopes()}, t)
	e.must(err, "IssueClientCredentials")
	if kind, gid, err := token.Parse(v); err != nil || kind != token.Access || gid != g.ID {
		e.t.Fatalf("IssueClientCredentials returned %.12s… (%v) for grant %s: not an access token of its grant", v, err, g.ID)
	}
	if g.ClientID != clientID || g.WebsiteID != "" || g.OperatorID != "" || g.Revoked || !g.ExpiresAt.After(e.now()) {
		e.t.Errorf("IssueClientCredentials grant = %+v, want a live client-credentials grant of %s", g, clientID)
	}
	t.GrantID = g.ID
	return storage.NewToken{Value: v, Token: t}, g
}

func testIssueClientCredentials(e *env) {
	narrow := scopes.MustParse(scopes.PluginScopes().Strings()[0])
	t1, g1 := e.cc("c1", scopes.PluginScopes(), time.Hour)
	if g1.Scopes != scopes.PluginScopes() {
		e.t.Errorf("new grant scopes = %s, want the offered %s", g1.Scopes, scopes.PluginScopes())
	}
	t2, g := e.cc("c1", narrow, time.Hour)
	if g.ID != g1.ID {
		e.t.Errorf("second IssueClientCredentials used grant %s, want the live %s", g.ID, g1.ID)
	}
	e.live(t1, t2)
	e.checkGrants("c1", "", g1)

	// Revoked: a new grant, and the old tokens stay dead.
	_, err := e.s.RevokeGrant(e.ctx, g1.ID)
	e.must(err, "RevokeGrant")
	t3, g2 := e.cc("c1", scopes.PluginScopes(), time.Hour)
	if g2.ID == g1.ID {
		e.t.Errorf("after revocation IssueClientCredentials used the revoked grant %s", g1.ID)
	}
	e.dead(t1, t2)
	e.live(t3)
	// Expired (tokens extend the grant; past the last one it is gone): a
	// new grant.
	e.f.Clock.Advance(time.Hour + time.Second)
	e.dead(t3)
	t4, g3 := e.cc("c1", scopes.PluginScopes(), time.Hour)
	if g3.ID == g2.ID {
		e.t.Errorf("after expiry IssueClientCredentials used the expired grant %s", g2.ID)
	}
	e.live(t4)
	// Other clients have their own.
	t5, other := e.cc("c2", scopes.PluginScopes(), time.Hour)
	if other.ID == g3.ID {
		e.t.Errorf("c2 got c1's grant %s", g3.ID)
	}
	e.live(t4, t5)
	e.checkGrants("c1", "", g3)

	bad := storage.Grant{ID: token.NewID(), ClientID: "c1", WebsiteID: "w1", Scopes: scopes.PluginScopes()}
	tk := storage.Token{Scopes: narrow, ExpiresAt: e.now().Add(time.Hour)}
	if _, _, err := e.s.IssueClientCredentials(e.ctx, bad, tk); err == nil {
		e.t.Error("IssueClientCredentials with a website: no error")
	}
	tk.Kind = token.Refresh
	if _, _, err := e.s.IssueClientCredentials(e.ctx, storage.Grant{ID: token.NewID(), ClientID: "c1"}, tk); err == nil {
		e.t.Error("IssueClientCredentials of a refresh token: no error")
	}
}

// testClientCredentialsSpread: a busy client's tokens are spread over
// grants of bounded size (one grant for all would grow without bound), all
// live, all listed, all revoked with the client.
func testClientCredentialsSpread(e *env) {
	const n = 300
	toks := make([]storage.NewToken, n)
	perGrant := map[string]int{}
	for i := range toks {
		toks[i], _ = e.cc("c1", scopes.PluginScopes(), time.Hour)
		perGrant[toks[i].GrantID]++
	}
	if len(perGrant) < 2 {
		e.t.Errorf("%d client-credentials tokens all went into one grant", n)
	}
	for id, k := range perGrant {
		if k > 125 {
			e.t.Errorf("grant %s holds %d tokens, want about a hundred at most", id, k)
		}
	}
	e.live(toks...)
	gs, err := e.s.ListGrants(e.ctx, "c1", "")
	e.must(err, "ListGrants")
	if len(gs) != len(perGrant) {
		e.t.Errorf("ListGrants = %d grants, want %d", len(gs), len(perGrant))
	}
	rev, err := e.s.RevokeClient(e.ctx, "c1")
	e.wantRevocation(rev, err, storage.Revocation{Grants: len(perGrant), Tokens: n}, "RevokeClient")
	e.dead(toks...)
}

func testIssueClientCredentialsRace(e *env) {
	const n = 50
	toks := make([]storage.NewToken, n)
	errs := race(n, func(i int) error {
		t := storage.Token{Kind: token.Access, ClientID: "c1", Scopes: scopes.PluginScopes(), IssuedAt: e.now(), ExpiresAt: e.now().Add(time.Hour)}
		v, g, err := e.s.IssueClientCredentials(e.ctx, storage.Grant{ID: token.NewID(), ClientID: "c1", Scopes: scopes.PluginScopes()}, t)
		t.GrantID = g.ID
		toks[i] = storage.NewToken{Value: v, Token: t}
		return err
	})
	for i, err := range errs {
		if err != nil {
			e.t.Fatalf("goroutine %d: %v", i, err)
		}
	}
	for i := range toks {
		if toks[i].GrantID != toks[0].GrantID {
			e.t.Fatalf("concurrent IssueClientCredentials used grants %s and %s, want one grant", toks[0].GrantID, toks[i].GrantID)
		}
	}
	e.live(toks...)
	e.checkGrants("c1", "", storage.Grant{ID: toks[0].GrantID})
}

func testExpiredTokensPruned(e *env) {
	// A client-credentials grant lives on as long as it issues tokens; its
	// expired tokens must not pile up.
	const n, live = 600, 10
	for range n {
		e.cc("c1", scopes.PluginScopes(), live*time.Minute)
		e.f.Clock.Advance(time.Minute)
	}
	if stored := e.count(Records); stored > 4*live+64 {
		e.t.Errorf("after %d tokens with at most %d live, %d hash entries are stored: expired tokens are not pruned", n, live, stored)
	}
}

func testNoRawSecretsAtRest(e *env) {
	clientSecret := token.NewSecret()
	c := e.client("c1")
	_, err := e.s.UpdateClient(e.ctx, c.ID, func(c storage.Client) (storage.Client, error) {
		c.Secrets = []storage.SecretHash{storage.HashSecret(clientSecret, time.Time{})}
		return c, nil
	})
	e.must(err, "UpdateClient")
	var secrets []string
	for range 3 {
		g := e.grant("c1", "w1", time.Time{})
		code := e.code(g)
		e.issue(code)
		access, refresh := e.tok(token.Access, g, time.Hour), e.tok(token.Refresh, g, time.Hour)
		e.must(e.s.RedeemCode(e.ctx, code.Value, access, refresh), "RedeemCode")
		access2, refresh2 := e.tok(token.Access, g, time.Hour), e.tok(token.Refresh, g, time.Hour)
		e.must(e.s.RotateRefresh(e.ctx, refresh.Value, access2, refresh2), "RotateRefresh")
		code2 := e.code(g)
		e.issue(code2)
		for _, t := range []storage.NewToken{code, access, refresh, access2, refresh2, code2} {
			secrets = append(secrets, t.Value, t.Value[4+token.GrantLen:len(t.Value)-6])
		}
	}
	session, admin := token.NewSecret(), token.NewSecret()
	e.must(e.s.CreateSession(e.ctx, session, storage.Session{OperatorID: "op1", CSRF: "x", ExpiresAt: e.now().Add(time.Hour)}), "CreateSession")
	e.must(e.s.AddAdminToken(e.ctx, admin, "ops"), "AddAdminToken")
	secrets = append(secrets, clientSecret, clientSecret[4:], session, session[4:], admin, admin[4:])

	all, err := e.f.AtRest.Dump(e.ctx)
	e.must(err, "dump what is stored")
	blob := strings.Join(all, "\n")
	if len(all) < 5 || !strings.Contains(blob, "Plugin c1") {
		e.t.Fatalf("the dump holds %d records and not the client's name: the check would prove nothing", len(all))
	}
	for _, s := range secrets {
		if strings.Contains(blob, s) {
			e.t.Errorf("a raw secret is stored at rest: %.12s…", s)
		}
	}
}

// same marks toks to take the presented token's scopes, as RedeemChecked
// stores them; their Scopes are set to want for the live checks.
func same(want scopes.Set, toks ...storage.NewToken) []storage.NewToken {
	for i := range toks {
		toks[i].SameScopes = true
		toks[i].Scopes = want
	}
	return toks
}

func (e *env) wantMismatch(err error, what, call string) {
	e.t.Helper()
	var m *storage.MismatchError
	if !errors.As(err, &m) || m.What != what {
		e.t.Errorf("%s: %v, want a MismatchError %q", call, err, what)
	}
}

func testRedeemChecked(e *env) {
	g := e.grant("c1", "w1", time.Time{})
	code := e.code(g)
	code.Scopes = narrower()
	e.issue(code)
	const verifierS256 = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // e.code's challenge
	ok := storage.Redemption{ClientID: "c1", RedirectURI: code.RedirectURI, Challenge: verifierS256}
	for _, tc := range []struct {
		what string
		want storage.Redemption
	}{
		{"client_id", storage.Redemption{ClientID: "c2", RedirectURI: ok.RedirectURI, Challenge: verifierS256}},
		{"redirect_uri", storage.Redemption{ClientID: "c1", RedirectURI: ok.RedirectURI + "x", Challenge: verifierS256}},
		{"code_verifier_missing", storage.Redemption{ClientID: "c1", RedirectURI: ok.RedirectURI}},
		{"code_verifier", storage.Redemption{ClientID: "c1", RedirectURI: ok.RedirectURI, Challenge: "x" + verifierS256[1:]}},
	} {
		_, _, err := e.s.RedeemChecked(e.ctx, code.Value, tc.want, same(scopes.Set{}, e.tok(token.Access, g, time.Hour))...)
		e.wantMismatch(err, tc.what, "RedeemChecked with a bad "+tc.what)
	}
	e.live(code) // nothing consumed by the refusals
	toks := same(code.Scopes, e.tok(token.Access, g, time.Hour), e.tok(token.Refresh, g, 24*time.Hour))
	gg, set, err := e.s.RedeemChecked(e.ctx, code.Value, ok, toks...)
	e.must(err, "RedeemChecked(code)")
	if gg.ID != g.ID || gg.ClientID != "c1" || gg.WebsiteID != "w1" || set != code.Scopes {
		e.t.Errorf("RedeemChecked = %+v, %s; want grant %s and the code's scopes %s", gg, set, g.ID, code.Scopes)
	}
	e.live(toks...)
	e.dead(code)

	// A refresh token: the client is checked; the new tokens take the
	// presented refresh token's scopes.
	refresh := toks[1]
	_, _, err = e.s.RedeemChecked(e.ctx, refresh.Value, storage.Redemption{ClientID: "c2"}, same(scopes.Set{}, e.tok(token.Access, g, time.Hour))...)
	e.wantMismatch(err, "client_id", "RedeemChecked(refresh) by another client")
	next := same(code.Scopes, e.tok(token.Access, g, time.Hour), e.tok(token.Refresh, g, 24*time.Hour))
	_, set, err = e.s.RedeemChecked(e.ctx, refresh.Value, storage.Redemption{ClientID: "c1"}, next...)
	e.must(err, "RedeemChecked(refresh)")
	if set != code.Scopes {
		e.t.Errorf("RedeemChecked(refresh) scopes = %s, want %s", set, code.Scopes)
	}
	e.live(next...)
	e.dead(refresh)

	// Replays revoke the grant, as RedeemCode's and RotateRefresh's do.
	_, _, err = e.s.RedeemChecked(e.ctx, refresh.Value, storage.Redemption{ClientID: "c1"}, same(scopes.Set{}, e.tok(token.Access, g, time.Hour))...)
	e.wantErr(err, storage.ErrReplayed, "RedeemChecked of a used refresh token")
	e.dead(next...)

	// A code without PKCE: refused when PKCE is required or a verifier
	// is sent.
	g2 := e.grant("c1", "w1", time.Time{})
	plain := e.code(g2)
	plain.CodeChallenge, plain.CodeChallengeMethod = "", ""
	e.issue(plain)
	_, _, err = e.s.RedeemChecked(e.ctx, plain.Value, storage.Redemption{ClientID: "c1", RedirectURI: plain.RedirectURI, RequirePKCE: true},
		same(scopes.Set{}, e.tok(token.Access, g2, time.Hour))...)
	e.wantMismatch(err, "pkce_required", "RedeemChecked without PKCE when required")
	_, _, err = e.s.RedeemChecked(e.ctx, plain.Value, storage.Redemption{ClientID: "c1", RedirectURI: plain.RedirectURI, Challenge: verifierS256},
		same(scopes.Set{}, e.tok(token.Access, g2, time.Hour))...)
	e.wantMismatch(err, "code_verifier_unexpected", "RedeemChecked with a verifier for a code without PKCE")
	a := same(g2.Scopes, e.tok(token.Access, g2, time.Hour))
	_, _, err = e.s.RedeemChecked(e.ctx, plain.Value, storage.Redemption{ClientID: "c1", RedirectURI: plain.RedirectURI}, a...)
	e.must(err, "RedeemChecked(code without PKCE)")
	e.live(a...)
	_, _, err = e.s.RedeemChecked(e.ctx, e.tok(token.Access, g2, time.Hour).Value, storage.Redemption{ClientID: "c1"})
	e.wantErr(err, storage.ErrNotFound, "RedeemChecked of an access token")
}
