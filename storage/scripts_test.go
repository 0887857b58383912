package storage

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

// scriptResult is one script's reply parser, for tests.
type scriptResult struct {
	name   string
	lua    *redis.Script
	result func(any) error
}

func resultOf[A scriptArgs, R any](s script[A, R]) scriptResult {
	return scriptResult{s.name, s.lua, func(v any) error { _, err := s.result(v); return err }}
}

// allScripts lists every script the store runs.
var allScripts = []scriptResult{
	resultOf(createGrantScript), resultOf(issueScript), resultOf(ccIssueScript),
	resultOf(peekScript), resultOf(redeemScript), resultOf(redeemCheckedScript),
	resultOf(revokeTokenScript), resultOf(revokeGrantScript), resultOf(indexAddScript),
	resultOf(auditAppendScript),
}

// TestScriptFiles: every Lua file is one script (or the grant helpers),
// documents its KEYS, ARGV and reply at the top, and no Lua is left in Go
// source.
func TestScriptFiles(t *testing.T) {
	files, err := fs.Glob(luaFiles, "lua/*.lua")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range allScripts {
		names = append(names, s.name)
	}
	for _, f := range files {
		name := strings.TrimPrefix(f, "lua/")
		src, _ := luaFiles.ReadFile(f)
		if !strings.HasPrefix(string(src), "-- "+name+" ") && !strings.HasPrefix(string(src), "-- "+name+":") {
			t.Errorf("%s does not start with a comment naming it", f)
		}
		if name == "grant.lua" {
			continue
		}
		if !slices.Contains(names, name) {
			t.Errorf("%s is no script's file", f)
		}
		head := headComment(string(src))
		for _, want := range []string{"KEYS", "ARGV", "Reply"} {
			if !strings.Contains(head, want) {
				t.Errorf("%s: the top comment does not describe %s", f, want)
			}
		}
	}
	if len(files) != len(allScripts)+1 {
		t.Errorf("%d Lua files for %d scripts and grant.lua", len(files), len(allScripts))
	}
	gos, _ := filepath.Glob("*.go")
	for _, f := range gos {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(f, "_test.go") && strings.Contains(string(src), "redis.call(") {
			t.Errorf("%s holds Lua source: it belongs in lua/", f)
		}
	}
}

// headComment is the leading run of comment lines of a Lua file.
func headComment(src string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(src, "\n") {
		if !strings.HasPrefix(line, "--") {
			break
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// TestScriptRepliesChecked: a reply of the wrong type or shape is an error
// from every script's parser, never a panic or a zero value taken for an
// answer.
func TestScriptRepliesChecked(t *testing.T) {
	bad := []any{nil, "x", int64(7), []any{}, []any{"1"}, []any{int64(9)}, []any{int64(3), int64(2), int64(1)},
		[]any{int64(2), "a", "b"}, []any{int64(1), []any{"x"}}, []any{[]any{}, "g", "c", "w", "o", "s", "t", "u", "v"}}
	for _, s := range allScripts {
		for _, v := range bad {
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Errorf("%s: reply %#v: panic %v", s.name, v, p)
					}
				}()
				if err := s.result(v); !errors.Is(err, errBadReply) {
					t.Errorf("%s: reply %#v: error %v, want errBadReply", s.name, v, err)
				}
			}()
		}
	}
	// Well-formed replies of each shape parse.
	good := map[string][]any{
		"create_grant.lua":   {int64(0), int64(1)},
		"issue.lua":          {int64(0), int64(1)},
		"cc_issue.lua":       {[]any{int64(0)}, []any{int64(1), "g", "c", nil, nil}},
		"peek.lua":           {[]any{int64(0)}, []any{int64(2), int64(1), int64(3)}, []any{int64(1), "rec", nil, "g", "c", "w", "o"}},
		"redeem.lua":         {[]any{int64(0)}, []any{int64(1)}, []any{int64(2), int64(1), int64(3)}},
		"redeem_checked.lua": {[]any{int64(0)}, []any{int64(3), "client_id"}, []any{int64(1), "g", "c", "w", "o", "s"}},
		"revoke_token.lua":   {[]any{int64(0), int64(1)}, []any{int64(1), int64(2), "c", nil}},
		"revoke_grant.lua":   {[]any{int64(0), int64(0), nil, nil}},
		"index_add.lua":      {[]any{int64(0), int64(3)}, []any{int64(1), int64(2), []any{"a", "b"}, ""}},
		"audit_append.lua":   {"1700000000000-0"},
	}
	for _, s := range allScripts {
		if len(good[s.name]) == 0 {
			t.Errorf("%s: no well-formed reply tested", s.name)
		}
		for _, v := range good[s.name] {
			if err := s.result(v); err != nil {
				t.Errorf("%s: reply %#v: %v", s.name, v, err)
			}
		}
	}
}

// TestClientCredentialsNoRetry: IssueClientCredentials takes a fixed number
// of round trips in every case, since each step is one script that says
// whether it worked: one in the steady state, at most four otherwise.
func TestClientCredentialsNoRetry(t *testing.T) {
	addr := redistest.StartServer(t)
	loader := redis.NewClient(&redis.Options{Addr: addr})
	for _, s := range allScripts { // so that no EVALSHA is answered NOSCRIPT
		if err := s.lua.Load(t.Context(), loader).Err(); err != nil {
			t.Fatal(err)
		}
	}
	loader.Close()
	newStore := func() (*Redis, *redistest.Counter) {
		// One connection, warmed up below: no handshake is counted.
		rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1})
		c := &redistest.Counter{}
		rdb.AddHook(c)
		s := NewRedis(rdb, RedisOptions{})
		t.Cleanup(func() { s.Close() })
		return s, c
	}
	ctx := t.Context()
	issue := func(s *Redis, c *redistest.Counter, want int64, what string) Grant {
		t.Helper()
		now := time.Now()
		before := c.RoundTrips.Load()
		client := "p1"
		if want < 0 { // warming up: not counted
			client = "p0"
		}
		v, g, err := s.IssueClientCredentials(ctx, Grant{ID: token.NewID(), ClientID: client, Scopes: scopes.PluginScopes()},
			Token{Scopes: scopes.PluginScopes(), ExpiresAt: now.Add(time.Hour)})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := c.RoundTrips.Load() - before; want >= 0 && got != want {
			t.Errorf("%s: %d round trips, want %d", what, got, want)
		}
		if _, lg, err := s.LookupToken(ctx, v); err != nil || lg.ID != g.ID {
			t.Errorf("%s: token looks up as %v, %v; want live in grant %s", what, lg.ID, err, g.ID)
		}
		return g
	}
	a, ac := newStore()
	issue(a, ac, -1, "warm-up")    // dials, and stores the scope sets
	issue(a, ac, 3, "first issue") // GET pointer, create, index
	g := issue(a, ac, 1, "steady state")
	b, bc := newStore()
	issue(b, bc, -1, "warm-up")
	if got := issue(b, bc, 2, "another process's first issue"); got.ID != g.ID { // GET pointer, issue
		t.Errorf("another process used grant %s, want the installed %s", got.ID, g.ID)
	}
	if _, err := a.RevokeGrant(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	g2 := issue(a, ac, 4, "after revocation") // issue (dead), GET, create, index
	if g2.ID == g.ID {
		t.Error("the revoked grant was used again")
	}
	if got := issue(b, bc, 3, "the other process after revocation"); got.ID != g2.ID { // issue (dead), GET, issue
		t.Errorf("the other process used grant %s, want the installed %s", got.ID, g2.ID)
	}
}
