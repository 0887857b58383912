package storage

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

func testStore(t *testing.T, opt RedisOptions) (*Redis, *redis.Client) {
	rdb := redis.NewClient(&redis.Options{Addr: redistest.StartServer(t)})
	s := NewRedis(rdb, opt)
	t.Cleanup(func() { s.Close() })
	return s, rdb
}

func metaFromFields(fields []any) grantMeta {
	var m grantMeta
	for i := 0; i < len(fields); i += 2 {
		v := fields[i+1].(string)
		switch fields[i] {
		case "g":
			m.g = v
		case "c":
			m.c = v
		case "w":
			m.w = v
		case "o":
			m.o = v
		}
	}
	return m
}

func TestGrantRecordRoundTrip(t *testing.T) {
	s, _ := testStore(t, RedisOptions{})
	at := time.UnixMilli(1_790_000_000_123)
	for _, tc := range []struct {
		name string
		g    Grant
	}{
		{"website grant", Grant{ClientID: "c1", WebsiteID: "w1", OperatorID: "op1", Scopes: scopes.WebsiteScopes(), CreatedAt: at, ExpiresAt: at.Add(time.Hour)}},
		{"client credentials", Grant{ClientID: "plugin-x", Scopes: scopes.PluginScopes(), CreatedAt: at, ExpiresAt: at.Add(time.Minute)}},
		{"revoked, no scopes", Grant{ClientID: "c1", WebsiteID: "w1", CreatedAt: at, ExpiresAt: at, Revoked: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.g.ID = token.NewID()
			ids, err := s.saveScopeSets(t.Context(), tc.g.Scopes)
			if err != nil {
				t.Fatal(err)
			}
			got, ssid, err := s.decodeGrant(t.Context(), tc.g.ID, metaFromFields(grantFields(tc.g, ids[0])))
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != tc.g.ID || got.ClientID != tc.g.ClientID || got.WebsiteID != tc.g.WebsiteID ||
				got.OperatorID != tc.g.OperatorID || got.Scopes != tc.g.Scopes || got.Revoked != tc.g.Revoked ||
				!got.CreatedAt.Equal(tc.g.CreatedAt) || !got.ExpiresAt.Equal(tc.g.ExpiresAt) || ssid != ids[0] {
				t.Errorf("round trip = %+v (%s), want %+v (%s)", got, ssid, tc.g, ids[0])
			}
		})
	}
}

func TestCorruptRecordsFailClosed(t *testing.T) {
	s, rdb := testStore(t, RedisOptions{})
	ctx := t.Context()
	ids, err := s.saveScopeSets(ctx, scopes.PluginScopes())
	if err != nil {
		t.Fatal(err)
	}
	g := Grant{ID: token.NewID(), ClientID: "c1", Scopes: scopes.PluginScopes()}
	header := b48ms(1790000000000) + "0" + b48ms(1790000000000)
	// A scope set stored under the wrong ID.
	if err := rdb.HSet(ctx, s.k.scopeSets(), "AAAAAAAAAAAAAAAA", scopes.WebsiteScopes().String()).Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, grant, tok string }{
		{"short grant", "123", ""},
		{"bad grant header", strings.Repeat("x", grantFieldLen), ""},
		{"unknown scope set", header + "BBBBBBBBBBBBBBBB", ""},
		{"scope set under a wrong ID", header + "AAAAAAAAAAAAAAAA", ""},
		{"short token", "", "a123"},
		{"bad token kind", "", "z" + strings.Repeat("1", tokenHeaderLen-1)},
		{"bad token length", "", "a" + strings.Repeat("1", tokenHeaderLen+2)},
		{"bad used marker length", "", "R" + strings.Repeat("1", tokenHeaderLen-1)},
		{"token with unknown scope set", "", "a" + strings.Repeat("1", tokenHeaderLen-1) + "CCCCCCCCCCCCCCCC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.grant != "" {
				_, _, err = s.decodeGrant(ctx, g.ID, grantMeta{g: tc.grant, c: "c1"})
			} else {
				_, _, err = s.decodeToken(ctx, tc.tok, g, ids[0])
			}
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("error = %v, want ErrUnavailable", err)
			}
		})
	}
}

// TestRevokeSkipsForeignIndexEntries: whatever an index holds, revoking a
// client or a website only revokes that client's or website's grants.
func TestRevokeSkipsForeignIndexEntries(t *testing.T) {
	s, rdb := testStore(t, RedisOptions{})
	ctx := t.Context()
	g := Grant{ID: token.NewID(), ClientID: "b", WebsiteID: "wb", Scopes: scopes.WebsiteScopes()}
	if err := s.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{s.k.clientGrants("a"), s.k.websiteGrants("wa")} {
		if err := rdb.ZAdd(ctx, key, redis.Z{Score: 1, Member: g.ID}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for name, revoke := range map[string]func() (Revocation, error){
		"client":  func() (Revocation, error) { return s.RevokeClient(ctx, "a") },
		"website": func() (Revocation, error) { return s.RevokeWebsite(ctx, "wa") },
	} {
		if rev, err := revoke(); err != nil || rev != (Revocation{}) {
			t.Errorf("Revoke%s with a foreign index entry = %+v, %v; want nothing revoked", name, rev, err)
		}
	}
	if got, err := s.GetGrant(ctx, g.ID); err != nil || got.Revoked {
		t.Errorf("foreign grant = %+v, %v; want it live", got, err)
	}
}

func TestNewRedisRejectsBadPrefix(t *testing.T) {
	for _, p := range []string{"a{b}", "with space", "x\n"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewRedis(prefix %q) did not panic", p)
				}
			}()
			NewRedis(nil, RedisOptions{Prefix: p})
		}()
	}
}

// TestTokenHashStaysCompact pins the memory design on a real Redis: a
// grant's token hash keeps the listpack encoding and token records stay
// short, whatever the scopes.
func TestTokenHashStaysCompact(t *testing.T) {
	s, rdb := testStore(t, RedisOptions{})
	ctx := t.Context()
	now := time.Now()
	for _, gs := range []scopes.Set{scopes.WebsiteScopes(), scopes.MustParse(strings.Join(scopes.WebsiteScopes().Strings()[:10], " "))} {
		g := Grant{ID: token.NewID(), ClientID: "c1", WebsiteID: "w1", OperatorID: "o1", Scopes: gs}
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
		sub := scopes.MustParse(strings.Join(gs.Strings()[1:], " "))
		var toks []NewToken
		for i := range 100 {
			kind, sc := token.Access, gs
			switch i % 4 {
			case 1:
				sc = sub
			case 2:
				kind = token.Refresh
			case 3:
				kind = token.Code
			}
			toks = append(toks, NewToken{Value: token.New(kind, g.ID), Token: Token{Scopes: sc, ExpiresAt: now.Add(time.Hour),
				RedirectURI: "https://plugin.example/a/rather/long/callback/path?with=query&and=more", CodeChallenge: strings.Repeat("x", 43), CodeChallengeMethod: "S256"}})
		}
		if err := s.IssueTokens(ctx, toks...); err != nil {
			t.Fatal(err)
		}
		key := s.k.grant(g.ID)
		enc, err := rdb.ObjectEncoding(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if enc != "listpack" {
			t.Errorf("token hash of a %d-scope grant with 100 tokens is %s, want listpack", gs.Len(), enc)
		}
		vals, err := rdb.HGetAll(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		for f, v := range vals {
			if len(f) != tokenFieldLen { // the grant's own fields
				continue
			}
			if len(v) != tokenHeaderLen && len(v) != tokenHeaderLen+ssidLen {
				t.Errorf("token record %q: want %d or %d bytes", v, tokenHeaderLen, tokenHeaderLen+ssidLen)
			}
		}
	}
}

// TestAuditStreamKeptByTime pins the audit stream's trimming: by time
// (MINID on Redis's clock), never by count. Thousands of events within the
// retention all stay; once they are older than the retention, they go.
func TestAuditStreamKeptByTime(t *testing.T) {
	const retention = 300 * time.Millisecond
	s, rdb := testStore(t, RedisOptions{AuditRetention: retention})
	ctx := t.Context()
	const n = 3000
	start := time.Now()
	for i := range n {
		if err := s.AppendEvent(ctx, Event{Kind: KindRevokeGrant, Detail: map[string]string{"i": strconv.Itoa(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := rdb.XLen(ctx, s.k.audit()).Val(); got != n && time.Since(start) < retention {
		t.Fatalf("audit stream holds %d events, want all %d (no count cap)", got, n)
	}
	mem := rdb.MemoryUsage(ctx, s.k.audit()).Val()
	t.Logf("audit stream: %d events, %d bytes (%d per event)", n, mem, mem/n)

	// Keep appending other events until the first n are older than the
	// retention plus a stream node: then every one of them must be gone,
	// and the newest events kept.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := s.AppendEvent(ctx, Event{Kind: KindAdminLogin}); err != nil {
			t.Fatal(err)
		}
		old, err := s.ListEvents(ctx, EventFilter{Kind: KindRevokeGrant, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(old) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v events older than the retention (%v) are still listed: %v", time.Since(start), retention, old)
		}
	}
	evs, err := s.ListEvents(ctx, EventFilter{Kind: KindAdminLogin, Limit: 1})
	if err != nil || len(evs) != 1 {
		t.Errorf("ListEvents(admin.login) = %v, %v; want the newest event", evs, err)
	}
}

// TestGrantIndexStaysCompact pins the index design on a real Redis: a
// client's index of thousands of grants is split into shards that keep the
// listpack encoding, and holds every grant exactly once.
func TestGrantIndexStaysCompact(t *testing.T) {
	s, rdb := testStore(t, RedisOptions{})
	ctx := t.Context()
	const n = 3000
	for i := range n {
		g := Grant{ID: token.NewID(), ClientID: "big", WebsiteID: "w" + strings.Repeat("x", i%3), Scopes: scopes.PluginScopes()}
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	base := s.k.clientGrants("big")
	shards, err := rdb.Get(ctx, shardCountKey(base)).Int()
	if err != nil || shards < n/indexSplitAt {
		t.Fatalf("shard count = %d, %v; want at least %d", shards, err, n/indexSplitAt)
	}
	total, biggest := 0, 0
	for i := range shards {
		key := shardKey(base, i)
		members, err := rdb.ZRange(ctx, key, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			if shardOf(m, shards) != i {
				t.Errorf("grant %s is in shard %d of %d, want %d", m, i, shards, shardOf(m, shards))
			}
		}
		total += len(members)
		biggest = max(biggest, len(members))
		if enc := rdb.ObjectEncoding(ctx, key).Val(); len(members) <= 128 && enc != "listpack" {
			t.Errorf("shard %d of %d entries is %s, want listpack", i, len(members), enc)
		}
	}
	t.Logf("%d grants in %d shards, biggest %d", total, shards, biggest)
	if total != n {
		t.Errorf("shards hold %d entries, want %d", total, n)
	}
	if biggest > 128 {
		t.Errorf("biggest shard holds %d entries, want at most 128 (listpack)", biggest)
	}
}
