// Package conformance is the one test suite every storage.Store backend
// must pass: RunTests(t, newFixture). scopegate ships one implementation
// (Redis over go-redis), run by storage's tests against a real
// redis-server, a three-master Redis Cluster and the embedded in-process
// server; the suite is the contract those three share, and runs unchanged
// on each.
//
// The suite knows no backend. A Fixture hands it the Store, the settable
// clock the store reads, a view of what the backend keeps at rest (AtRest:
// no raw token, code or secret anywhere; revoked and expired data gone)
// and a way to build the store over a dead backend. The backend's own test
// builds fixtures; it imports this package, never the other way round.
package conformance

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

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
	// AtRest shows what Store keeps, and only that (not the data of other
	// stores sharing the backend).
	AtRest AtRest
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

// AtRest is the suite's view of what a store keeps at rest, in the
// backend's own terms.
type AtRest interface {
	// Dump returns everything the store keeps, as text: one string per
	// record (for Redis, a key with its name and every value under it).
	Dump(ctx context.Context) ([]string, error)
	// Count returns how many entries of a kind the store keeps.
	Count(ctx context.Context, kind Entries) (int64, error)
}

// Entries is a kind of stored entry the suite counts.
type Entries int

const (
	// Records are the fields of stored records: a grant's own fields and
	// one per token record (for Redis, the fields of every hash). Revoking
	// a grant of n tokens removes n; expired tokens go in bounded time.
	Records Entries = iota
	// IndexEntries are the entries of grant indexes, by client and by
	// website (for Redis, the members of every sorted set): one per live
	// grant and index once listings and revocations have pruned them.
	IndexEntries
)

// count is AtRest.Count, failing the test on error.
func (e *env) count(kind Entries) int64 {
	e.t.Helper()
	n, err := e.f.AtRest.Count(e.ctx, kind)
	e.must(err, "count stored entries")
	return n
}
