package storage

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// The store's Lua scripts live in lua/*.lua, one file a script, each
// starting with a comment that gives its KEYS, ARGV and reply. Helpers
// shared by the grant scripts live in lua/grant.lua; loadLua, the one
// loader, puts them before the scripts that use them. Go code runs a
// script only through a script value: a typed argument builder (keys and
// args) in, a checked result out. A reply of an unexpected type or shape
// is an error (errBadReply), never a panic.

//go:embed lua/*.lua
var luaFiles embed.FS

// loadLua returns the script lua/<name>, preceded by the library files
// libs, without comment lines and blank lines (Redis keeps every script's
// source in memory, and EVAL sends it). The files are embedded at build
// time, so a missing one is a programming error caught by every test: it
// panics at init.
func loadLua(name string, libs ...string) *redis.Script {
	var b strings.Builder
	for _, f := range append(libs, name) {
		src, err := luaFiles.ReadFile("lua/" + f)
		if err != nil {
			panic(fmt.Sprintf("storage: embedded script: %v", err))
		}
		for line := range strings.Lines(string(src)) {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
				b.WriteString(line)
			}
		}
		b.WriteByte('\n')
	}
	return redis.NewScript(b.String())
}

// scriptArgs is a script's typed arguments: its KEYS and its ARGV.
type scriptArgs interface {
	keys() []string
	args() []any
}

// script is one Lua script with its argument type A and its reply parser.
type script[A scriptArgs, R any] struct {
	name  string
	lua   *redis.Script
	parse func(*reply) R
}

func newScript[A scriptArgs, R any](name string, parse func(*reply) R, libs ...string) script[A, R] {
	return script[A, R]{name: name, lua: loadLua(name, libs...), parse: parse}
}

// run runs the script once on r. A store's first run of a script sends
// it in full (EVAL, which also caches it in Redis); later runs send its
// SHA1 (EVALSHA), and the source again only when Redis answers NOSCRIPT.
// So the first call of a path costs one round trip, like every other.
func (s script[A, R]) run(ctx context.Context, r *Redis, a A) (R, error) {
	var cmd *redis.Cmd
	if _, sent := r.sent.LoadOrStore(s.name, true); sent {
		cmd = s.lua.Run(ctx, r.rdb, a.keys(), a.args()...)
	} else {
		cmd = s.lua.Eval(ctx, r.rdb, a.keys(), a.args()...)
	}
	v, err := cmd.Result()
	if err != nil && !isNil(err) { // a nil reply is the parser's to judge
		var zero R
		return zero, err
	}
	return s.result(v)
}

// result parses and checks a reply of the script.
func (s script[A, R]) result(v any) (R, error) {
	r := &reply{script: s.name, v: v}
	out := s.parse(r)
	if r.err != nil {
		var zero R
		return zero, r.err
	}
	return out, nil
}

// call is a's run of the script, for the pipelined runners (durable.go).
func (s script[A, R]) call(a A) scriptCall { return scriptCall{keys: a.keys(), args: a.args()} }

// errBadReply is a script reply of the wrong type or shape.
var errBadReply = errors.New("storage: unexpected script reply")

// reply reads a script's reply, checking types as it goes: the first
// mismatch is kept in err, and reads after it return zero values.
type reply struct {
	script string
	v      any
	err    error
}

func (r *reply) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w from %s: %s", errBadReply, r.script, fmt.Sprintf(format, a...))
	}
}

// array checks that the reply is an array of min to max elements and
// returns its length (0 after a failure).
func (r *reply) array(min, max int) int {
	a, ok := r.v.([]any)
	if !ok {
		r.fail("%T, want an array", r.v)
		return 0
	}
	if len(a) < min || len(a) > max {
		r.fail("%d elements, want %d to %d", len(a), min, max)
		return 0
	}
	return len(a)
}

func (r *reply) elem(i int) (any, bool) {
	a, _ := r.v.([]any)
	if r.err != nil || i >= len(a) {
		r.fail("no element %d", i)
		return nil, false
	}
	return a[i], true
}

// int is element i, an integer (or the whole reply, for i < 0).
func (r *reply) int(i int) int64 {
	v, ok := r.v, true
	if i >= 0 {
		v, ok = r.elem(i)
	}
	n, isInt := v.(int64)
	if ok && !isInt {
		r.fail("element %d is %T, want an integer", i, v)
	}
	return n
}

// str is element i, a string or nil (Lua false: ""), or the whole reply,
// for i < 0.
func (r *reply) str(i int) string {
	v, ok := r.v, true
	if i >= 0 {
		v, ok = r.elem(i)
	}
	s, isStr := v.(string)
	if ok && !isStr && v != nil {
		r.fail("element %d is %T, want a string", i, v)
	}
	return s
}

// flag is the whole reply, 1 (true) or 0 (false).
func (r *reply) flag() bool {
	n := r.int(-1)
	if n != 0 && n != 1 {
		r.fail("%d, want 0 or 1", n)
	}
	return n == 1
}

// strs is element i, an array of strings.
func (r *reply) strs(i int) []string {
	v, ok := r.elem(i)
	a, isArr := v.([]any)
	if ok && !isArr {
		r.fail("element %d is %T, want an array", i, v)
	}
	out := make([]string, 0, len(a))
	for _, e := range a {
		s, isStr := e.(string)
		if !isStr {
			r.fail("element %d holds a %T, want strings", i, e)
			return nil
		}
		out = append(out, s)
	}
	return out
}

// meta is elements i..i+3: a grant's fields g, c, w, o.
func (r *reply) meta(i int) grantMeta {
	return grantMeta{r.str(i), r.str(i + 1), r.str(i + 2), r.str(i + 3)}
}

// status is element 0, which must be one of allowed, checking that the
// reply has the length each status has (lens[status]).
func (r *reply) status(lens map[int64]int) int64 {
	n := r.array(1, 8)
	st := r.int(0)
	if want, ok := lens[st]; r.err == nil && (!ok || n != want) {
		r.fail("status %d with %d elements", st, n)
	}
	return st
}

// Reply statuses of the scripts that consume or read a presented token.
const (
	stNotFound = 0 // not found, not live, or the wrong kind
	stOK       = 1
	stReplayed = 2 // used before: the grant was revoked by this call
	stMismatch = 3 // RedeemChecked: a check failed
)

// tokenRec is one token record for the issue arguments: its field, the
// header Go writes, and its scope set ID ("=": the presented token's).
type tokenRec struct{ field, header, ssid string }

// sideRec is a code's parameters, in their own key.
type sideRec struct {
	key, value string
	ttl        int64
}

// tokenBatch is the issue arguments of one grant (see issue in grant.lua)
// and the code parameter keys they write.
type tokenBatch struct {
	recs []tokenRec
	side []sideRec
}

func (b tokenBatch) keys() []string {
	ks := make([]string, len(b.side))
	for i, s := range b.side {
		ks[i] = s.key
	}
	return ks
}

func (b tokenBatch) args() []any {
	a := make([]any, 0, 2+3*len(b.recs)+2*len(b.side))
	a = append(a, len(b.recs))
	for _, t := range b.recs {
		a = append(a, t.field, t.header, t.ssid)
	}
	a = append(a, len(b.side))
	for _, s := range b.side {
		a = append(a, s.value, s.ttl)
	}
	return a
}

// createGrantArgs: lua/create_grant.lua.
type createGrantArgs struct {
	grant  string
	ttl    int64
	fields []any // field/value pairs
}

func (a createGrantArgs) keys() []string { return []string{a.grant} }
func (a createGrantArgs) args() []any    { return append([]any{a.ttl}, a.fields...) }

var createGrantScript = newScript[createGrantArgs]("create_grant.lua", (*reply).flag)

// issueArgs: lua/issue.lua.
type issueArgs struct {
	grant       string
	now, newExp int64
	toks        tokenBatch
}

func (a issueArgs) keys() []string { return append([]string{a.grant}, a.toks.keys()...) }
func (a issueArgs) args() []any    { return append([]any{a.now, a.newExp}, a.toks.args()...) }

var issueScript = newScript[issueArgs]("issue.lua", (*reply).flag, "grant.lua")

// ccIssueArgs: lua/cc_issue.lua.
type ccIssueArgs struct {
	issueArgs
	client    string
	maxFields int
}

func (a ccIssueArgs) args() []any {
	return append([]any{a.now, a.newExp, a.client, a.maxFields}, a.toks.args()...)
}

// ccIssued is cc_issue.lua's reply: ok, and the grant's fields.
type ccIssued struct {
	ok   bool
	meta grantMeta
}

var ccIssueScript = newScript[ccIssueArgs]("cc_issue.lua", func(r *reply) ccIssued {
	if r.status(map[int64]int{0: 1, 1: 5}) != stOK {
		return ccIssued{}
	}
	return ccIssued{ok: true, meta: r.meta(1)}
}, "grant.lua")

// presentedArgs names a presented token in its grant: the grant, the
// code's parameter key ("" for none), the store's now, the token's field
// and kind.
type presentedArgs struct {
	grant, params string
	now           int64
	field         string
	kind          byte
}

func (a presentedArgs) keys() []string {
	if a.params == "" {
		return []string{a.grant}
	}
	return []string{a.grant, a.params}
}

func (a presentedArgs) args() []any { return []any{a.now, a.field, string(rune(a.kind))} }

// presented is the reply of the scripts that read or consume a presented
// token: a status, and what goes with it.
type presented struct {
	status   int64
	replayed int64     // stReplayed: live tokens revoked
	rec      string    // peek: the token's record
	params   string    // peek: a code's parameters
	meta     grantMeta // peek, RedeemChecked: the grant's fields
	what     string    // stMismatch: what failed
	ssid     string    // RedeemChecked: the presented token's scope set ID
}

// readPresented reads the common statuses, given the length of stOK.
func readPresented(r *reply, okLen int, more map[int64]int) presented {
	lens := map[int64]int{stNotFound: 1, stReplayed: 3, stOK: okLen}
	for k, v := range more {
		lens[k] = v
	}
	p := presented{status: r.status(lens)}
	if p.status == stReplayed {
		p.replayed = r.int(2)
	}
	return p
}

// peekScript: lua/peek.lua (GetCode, GetRefresh).
var peekScript = newScript[presentedArgs]("peek.lua", func(r *reply) presented {
	p := readPresented(r, 7, nil)
	if p.status == stOK {
		p.rec, p.params, p.meta = r.str(1), r.str(2), r.meta(3)
	}
	return p
}, "grant.lua")

// redeemArgs: lua/redeem.lua (RedeemCode, RotateRefresh). The presented
// code's parameter key is always given (a never-written key for a refresh
// token).
type redeemArgs struct {
	presentedArgs
	keep, keepCap, newExp int64
	toks                  tokenBatch
}

func (a redeemArgs) keys() []string {
	return append([]string{a.grant, a.params}, a.toks.keys()...)
}

func (a redeemArgs) head() []any {
	return append(a.presentedArgs.args(), a.keep, a.keepCap, a.newExp)
}

func (a redeemArgs) args() []any { return append(a.head(), a.toks.args()...) }

var redeemScript = newScript[redeemArgs]("redeem.lua", func(r *reply) presented {
	return readPresented(r, 1, nil)
}, "grant.lua")

// redeemCheckedArgs: lua/redeem_checked.lua (RedeemChecked).
type redeemCheckedArgs struct {
	redeemArgs
	want Redemption
}

func (a redeemCheckedArgs) args() []any {
	pkce := "0"
	if a.want.RequirePKCE {
		pkce = "1"
	}
	args := append(a.head(), a.want.ClientID, a.want.RedirectURI, a.want.Challenge, pkce)
	return append(args, a.toks.args()...)
}

var redeemCheckedScript = newScript[redeemCheckedArgs]("redeem_checked.lua", func(r *reply) presented {
	p := readPresented(r, 6, map[int64]int{stMismatch: 2})
	switch p.status {
	case stOK:
		p.meta, p.ssid = r.meta(1), r.str(5)
	case stMismatch:
		p.what = r.str(1)
	}
	return p
}, "grant.lua")

// revokeGrantArgs: lua/revoke_grant.lua. ownerField 'c' or 'w' restricts
// it to grants of that client or website (owner); "" checks nothing.
type revokeGrantArgs struct {
	grant             string
	now               int64
	ownerField, owner string
}

func (a revokeGrantArgs) keys() []string { return []string{a.grant} }
func (a revokeGrantArgs) args() []any    { return []any{a.now, a.ownerField, a.owner} }

// revoked is the reply of the revoke scripts: the counts, and the owners
// of a grant that was looked at ("" when none).
type revoked struct {
	rev             Revocation
	owned           bool   // the reply named the grant's owners
	client, website string // its owners ("" when none)
	id              string // the grant's ID, filled in by the caller
}

// readRevoked reads a revoke script's reply, of one of the lengths lens.
func readRevoked(r *reply, lens ...int) revoked {
	n := r.array(2, 4)
	if r.err == nil && !slices.Contains(lens, n) {
		r.fail("%d elements", n)
	}
	out := revoked{rev: Revocation{Grants: int(r.int(0)), Tokens: int(r.int(1))}}
	if n == 4 {
		out.client, out.website, out.owned = r.str(2), r.str(3), true
	}
	return out
}

var revokeGrantScript = newScript[revokeGrantArgs]("revoke_grant.lua", func(r *reply) revoked {
	return readRevoked(r, 4)
}, "grant.lua")

// revokeTokenScript: lua/revoke_token.lua (RevokeToken).
var revokeTokenScript = newScript[presentedArgs]("revoke_token.lua", func(r *reply) revoked {
	return readRevoked(r, 2, 4)
}, "grant.lua")

// indexAddArgs: lua/index_add.lua. pointer, when set, is the client's
// client-credentials pointer, set to member when it is absent or holds
// expect.
type indexAddArgs struct {
	count, shard, splitFrom, splitTo string
	pointer, expect                  string
	guess                            int
	score                            float64
	member                           string
	nowSec                           int64
	splitAt                          int
}

func (a indexAddArgs) keys() []string {
	ks := []string{a.count, a.shard, a.splitFrom, a.splitTo}
	if a.pointer != "" {
		ks = append(ks, a.pointer)
	}
	return ks
}

func (a indexAddArgs) args() []any {
	return []any{a.guess, a.score, a.member, a.nowSec, a.splitAt, a.expect}
}

// indexAdded is index_add.lua's reply.
type indexAdded struct {
	ok      bool     // false: the guessed shard count was wrong
	n       int      // the shard count
	cands   []string // entries of the member's shard that may have expired
	pointer string   // the client-credentials pointer afterwards
}

var indexAddScript = newScript[indexAddArgs]("index_add.lua", func(r *reply) indexAdded {
	st := r.status(map[int64]int{0: 2, 1: 4})
	out := indexAdded{ok: st == 1, n: int(r.int(1))}
	if out.n < 1 {
		r.fail("shard count %d", out.n)
	}
	if out.ok {
		out.cands, out.pointer = r.strs(2), r.str(3)
	}
	return out
})

// auditAppendArgs: lua/audit_append.lua.
type auditAppendArgs struct {
	stream, event string
	retentionMs   int64
}

func (a auditAppendArgs) keys() []string { return []string{a.stream} }
func (a auditAppendArgs) args() []any    { return []any{a.event, a.retentionMs} }

var auditAppendScript = newScript[auditAppendArgs]("audit_append.lua", func(r *reply) string {
	id := r.str(-1)
	if !validStreamID(id) {
		r.fail("not a stream ID")
	}
	return id
})
