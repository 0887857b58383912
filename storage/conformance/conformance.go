// Package conformance is the one test suite every storage.Store backend
// must pass: RunTests(t, newStore). scopegate ships one implementation (Redis
// over go-redis), run by storage's tests against a real redis-server, a
// three-master Redis Cluster and the embedded in-process server; the suite
// is the contract those three share.
//
// Besides the Store, a Fixture hands the suite the settable clock the store
// reads and a raw client to the same Redis, with which the suite checks
// what is stored at rest (no raw token, code or secret anywhere; expired
// data pruned) without relying on key names.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// Fixture is one fresh, empty store and what the suite needs around it.
type Fixture struct {
	// Store is the store under test, empty, built with Clock.Now as its
	// clock. The suite may Close it.
	Store storage.Store
	// Clock is the store's clock; the suite moves it forward to expire
	// things.
	Clock *Clock
	// Raw is a client to the same Redis (not closed by the suite).
	Raw redis.UniversalClient
	// Prefix is Store's key prefix: the suite looks only at keys matching
	// Prefix + ":*".
	Prefix string
	// Down returns a store built like Store over a backend that cannot be
	// reached (a killed server, a dead port), for the fail-closed tests.
	Down func(t *testing.T) storage.Store
}

// Clock is a settable clock, safe for concurrent use. Its times are whole
// milliseconds (what the store keeps).
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to the current time (to the millisecond).
// It never runs behind the wall clock unless Set is told to.
func NewClock() *Clock { return &Clock{now: time.UnixMilli(time.Now().UnixMilli())} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// RunTests runs the suite. newStore is called once per subtest and must
// return a fresh, empty store (subtests run in parallel).
func RunTests(t *testing.T, newStore func(t *testing.T) Fixture) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newStore(t)
			tc.run(&env{t: t, f: f, s: f.Store, ctx: t.Context()})
		})
	}
}

var tests = []struct {
	name string
	run  func(e *env)
}{
	{"Ping", testPing},
	{"Clients", testClients},
	{"ClientSecrets", testClientSecrets},
	{"ClientUpdateRace", testClientUpdateRace},
	{"Operators", testOperators},
	{"Websites", testWebsites},
	{"GrantCreateGet", testGrantCreateGet},
	{"IssueAndLookup", testIssueAndLookup},
	{"ScopeSubsets", testScopeSubsets},
	{"IssueValidation", testIssueValidation},
	{"IssueIntoDeadGrant", testIssueIntoDeadGrant},
	{"Expiry", testExpiry},
	{"Code", testCode},
	{"CodeExpired", testCodeExpired},
	{"CodeReplayWithinRetention", testCodeReplayWithinRetention},
	{"CodeRace", testCodeRace},
	{"Refresh", testRefresh},
	{"RefreshReplayOldGeneration", testRefreshReplayOldGeneration},
	{"RefreshReplayRetention", testRefreshReplayRetention},
	{"RefreshRace", testRefreshRace},
	{"WrongKind", testWrongKind},
	{"RedeemWithForeignTokens", testRedeemWithForeignTokens},
	{"RedeemChecked", testRedeemChecked},
	{"RevokeToken", testRevokeToken},
	{"RevokeTokenForged", testRevokeTokenForged},
	{"RevokeGrant", testRevokeGrant},
	{"RevokeClient", testRevokeClient},
	{"RevokeWebsite", testRevokeWebsite},
	{"ListGrants", testListGrants},
	{"IndexPruning", testIndexPruning},
	{"BigIndexes", testBigIndexes},
	{"IssueClientCredentials", testIssueClientCredentials},
	{"IssueClientCredentialsRace", testIssueClientCredentialsRace},
	{"ClientCredentialsSpread", testClientCredentialsSpread},
	{"ExpiredTokensPruned", testExpiredTokensPruned},
	{"NoRawSecretsAtRest", testNoRawSecretsAtRest},
	{"Sessions", testSessions},
	{"AdminTokens", testAdminTokens},
	{"Reviews", testReviews},
	{"DecideLineRace", testDecideLineRace},
	{"Audit", testAudit},
	{"AuditPaging", testAuditPaging},
	{"Unavailable", testUnavailable},
	{"Closed", testClosed},
}

// env carries one subtest's fixture and helpers.
type env struct {
	t   *testing.T
	f   Fixture
	s   storage.Store
	ctx context.Context
}

func (e *env) now() time.Time { return e.f.Clock.Now() }

// must fails the test on err.
func (e *env) must(err error, what string) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// wantErr checks errors.Is(err, want).
func (e *env) wantErr(err, want error, what string) {
	e.t.Helper()
	if !errors.Is(err, want) {
		e.t.Errorf("%s: error = %v, want %v", what, err, want)
	}
}

// grantScopes is what the suite's website grants consent to.
func grantScopes() scopes.Set {
	ws := scopes.WebsiteScopes().Strings()
	return scopes.MustParse(strings.Join([]string{ws[0], ws[3], ws[7], ws[12], ws[20]}, " "))
}

// narrower is a strict subset of grantScopes.
func narrower() scopes.Set {
	ws := scopes.WebsiteScopes().Strings()
	return scopes.MustParse(ws[3] + " " + ws[12])
}

func (e *env) client(id string) storage.Client {
	e.t.Helper()
	c := storage.Client{
		ID: id, Name: "Plugin " + id, Type: storage.Confidential,
		RedirectURIs: []string{"https://plugin.example/cb"},
		GrantTypes:   []string{"authorization_code", "refresh_token", "client_credentials"},
		Role:         storage.RolePlugin, Status: storage.Active,
		Approved:  scopes.All(),
		CreatedAt: e.now(), UpdatedAt: e.now(),
	}
	e.must(e.s.CreateClient(e.ctx, c), "CreateClient "+id)
	return c
}

// grant creates and returns a grant for a website (or, with website "", a
// plain client grant), with the given expiry (zero: the store's default).
func (e *env) grant(clientID, websiteID string, exp time.Time) storage.Grant {
	e.t.Helper()
	g := storage.Grant{ID: token.NewID(), ClientID: clientID, WebsiteID: websiteID,
		Scopes: grantScopes(), CreatedAt: e.now(), ExpiresAt: exp}
	if websiteID != "" {
		g.OperatorID = "op1"
	} else {
		g.Scopes = scopes.PluginScopes()
	}
	e.must(e.s.CreateGrant(e.ctx, g), "CreateGrant")
	got, err := e.s.GetGrant(e.ctx, g.ID)
	e.must(err, "GetGrant")
	return got
}

// tok builds a token of g to store.
func (e *env) tok(kind token.Kind, g storage.Grant, ttl time.Duration) storage.NewToken {
	return storage.NewToken{Value: token.New(kind, g.ID), Token: storage.Token{
		Kind: kind, GrantID: g.ID, ClientID: g.ClientID, Scopes: g.Scopes,
		IssuedAt: e.now(), ExpiresAt: e.now().Add(ttl)}}
}

// code builds a code of g with PKCE parameters.
func (e *env) code(g storage.Grant) storage.NewToken {
	c := e.tok(token.Code, g, time.Minute)
	c.RedirectURI = "https://plugin.example/cb?x=" + g.ID
	c.CodeChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	c.CodeChallengeMethod = "S256"
	return c
}

// issue stores toks.
func (e *env) issue(toks ...storage.NewToken) {
	e.t.Helper()
	e.must(e.s.IssueTokens(e.ctx, toks...), "IssueTokens")
}

// live checks that each token looks up as stored.
func (e *env) live(toks ...storage.NewToken) {
	e.t.Helper()
	for _, nt := range toks {
		got, g, err := e.s.LookupToken(e.ctx, nt.Value)
		if err != nil {
			e.t.Errorf("LookupToken(%s of grant %s): %v, want live", nt.Kind, nt.GrantID, err)
			continue
		}
		sameToken(e.t, got, nt.Token)
		if g.ID != nt.GrantID || g.Revoked {
			e.t.Errorf("LookupToken grant = %+v, want live grant %s", g, nt.GrantID)
		}
	}
}

// dead checks that each token is ErrNotFound.
func (e *env) dead(toks ...storage.NewToken) {
	e.t.Helper()
	for _, nt := range toks {
		_, _, err := e.s.LookupToken(e.ctx, nt.Value)
		if !errors.Is(err, storage.ErrNotFound) {
			e.t.Errorf("LookupToken(%s of grant %s): error = %v, want ErrNotFound", nt.Kind, nt.GrantID, err)
		}
	}
}

func sameToken(t *testing.T, got, want storage.Token) {
	t.Helper()
	if got.Kind != want.Kind || got.GrantID != want.GrantID || got.ClientID != want.ClientID ||
		got.Scopes != want.Scopes || !got.IssuedAt.Equal(want.IssuedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
		got.RedirectURI != want.RedirectURI || got.CodeChallenge != want.CodeChallenge ||
		got.CodeChallengeMethod != want.CodeChallengeMethod {
		t.Errorf("token =\n  %+v\nwant\n  %+v", got, want)
	}
}

func (e *env) wantRevocation(got storage.Revocation, err error, want storage.Revocation, what string) {
	e.t.Helper()
	if err != nil {
		e.t.Errorf("%s: %v", what, err)
		return
	}
	if got != want {
		e.t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

// race runs fn(i) for i in [0, n) at once and returns the errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

// forEachKey calls fn for every key under the fixture's prefix (found on
// every master of a cluster), in the test goroutine.
func (e *env) forEachKey(fn func(c redis.Cmdable, key string)) {
	e.t.Helper()
	match := e.f.Prefix + ":*"
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, c *redis.Client) error {
		it := c.Scan(ctx, 0, match, 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	switch c := e.f.Raw.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(e.ctx, scan)
	case *redis.Client:
		err = scan(e.ctx, c)
	default:
		err = fmt.Errorf("unsupported raw client %T", e.f.Raw)
	}
	e.must(err, "scan keys")
	for _, k := range keys {
		fn(e.f.Raw, k)
	}
}

// dump returns a key's name and everything stored under it, as text.
func (e *env) dump(c redis.Cmdable, key string) string {
	e.t.Helper()
	var b strings.Builder
	b.WriteString(key)
	b.WriteByte('\n')
	typ, err := c.Type(e.ctx, key).Result()
	e.must(err, "TYPE")
	var vals []string
	switch typ {
	case "string":
		v, err := c.Get(e.ctx, key).Result()
		e.must(ignoreNil(err), "GET")
		vals = []string{v}
	case "hash":
		m, err := c.HGetAll(e.ctx, key).Result()
		e.must(err, "HGETALL")
		for k, v := range m {
			vals = append(vals, k, v)
		}
	case "set":
		vals, err = c.SMembers(e.ctx, key).Result()
		e.must(err, "SMEMBERS")
	case "zset":
		vals, err = c.ZRange(e.ctx, key, 0, -1).Result()
		e.must(err, "ZRANGE")
	case "list":
		vals, err = c.LRange(e.ctx, key, 0, -1).Result()
		e.must(err, "LRANGE")
	case "stream":
		msgs, err := c.XRange(e.ctx, key, "-", "+").Result()
		e.must(err, "XRANGE")
		for _, m := range msgs {
			vals = append(vals, fmt.Sprint(m.Values))
		}
	case "none": // expired between SCAN and TYPE
	default:
		e.t.Errorf("key %q has unexpected type %s", key, typ)
	}
	for _, v := range vals {
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String()
}

func ignoreNil(err error) error {
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

// countElements sums the elements of keys of one Redis type under the
// prefix (hash fields, sorted set members).
func (e *env) countElements(typ string) int64 {
	e.t.Helper()
	var n int64
	e.forEachKey(func(c redis.Cmdable, key string) {
		t, err := c.Type(e.ctx, key).Result()
		e.must(err, "TYPE")
		if t != typ {
			return
		}
		var m int64
		switch typ {
		case "hash":
			m, err = c.HLen(e.ctx, key).Result()
		case "zset":
			m, err = c.ZCard(e.ctx, key).Result()
		}
		e.must(err, "count")
		n += m
	})
	return n
}
