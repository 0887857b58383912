package token

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

var kinds = []Kind{Code, Access, Refresh}

var (
	patternRE = regexp.MustCompile(Pattern)
	// anchored is Pattern matched against the whole string.
	anchored = regexp.MustCompile(`^(?:` + Pattern + `)$`)
	base62RE = regexp.MustCompile(`^[0-9A-Za-z]*$`)
	secretRE = regexp.MustCompile(`^sgs_[0-9A-Za-z]{43}$`)
)

func TestAlphabet(t *testing.T) {
	if len(alphabet) != 62 {
		t.Fatalf("alphabet has %d characters", len(alphabet))
	}
	for i := 0; i < 256; i++ {
		c := byte(i)
		want := base62RE.MatchString(string([]byte{c}))
		if isBase62(string([]byte{c}), 1) != want || (strings.IndexByte(alphabet, c) >= 0) != want {
			t.Errorf("byte %#x: isBase62 disagrees with [0-9A-Za-z]", c)
		}
	}
	if Len != 75 || GrantLen != 22 {
		t.Errorf("Len = %d, GrantLen = %d; the format promises 75 and 22", Len, GrantLen)
	}
}

// decode is the inverse of encode, for tests.
func decode(t *testing.T, s string) *big.Int {
	t.Helper()
	n := new(big.Int)
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(alphabet, s[i])
		if d < 0 {
			t.Fatalf("decode(%q): not base62", s)
		}
		n.Mul(n, big.NewInt(62))
		n.Add(n, big.NewInt(int64(d)))
	}
	return n
}

// TestEncodeWidth checks that every width is wide enough: the largest value
// of each part survives encoding (encode would silently drop high digits).
func TestEncodeWidth(t *testing.T) {
	tests := []struct {
		name  string
		bytes int
		width int
	}{
		{"grant ID", 16, GrantLen},
		{"secret", 32, secretLen},
		{"checksum", 4, checkLen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, fill := range []byte{0x00, 0x01, 0x7f, 0xff} {
				b := bytes.Repeat([]byte{fill}, tc.bytes)
				got := encode(b, tc.width)
				if len(got) != tc.width || !isBase62(got, tc.width) {
					t.Fatalf("encode(%x) = %q, want %d base62 characters", b, got, tc.width)
				}
				if back := decode(t, got); back.Cmp(new(big.Int).SetBytes(b)) != 0 {
					t.Errorf("encode(%x) = %q decodes to %x: width too small", b, got, back.Bytes())
				}
			}
		})
	}
	if got := encode([]byte{0, 0, 0, 1}, 6); got != "000001" {
		t.Errorf("encode(1) = %q, want zero-padded 000001", got)
	}
}

func TestNewParseRoundTrip(t *testing.T) {
	for _, k := range kinds {
		t.Run(k.String(), func(t *testing.T) {
			for range 200 {
				id := NewID()
				tok := New(k, id)
				if len(tok) != Len {
					t.Fatalf("len(%q) = %d, want %d", tok, len(tok), Len)
				}
				if !strings.HasPrefix(tok, k.Prefix()) || !strings.HasPrefix(tok[prefixLen:], id) {
					t.Fatalf("%q does not start with %q and the grant ID %q", tok, k.Prefix(), id)
				}
				if !anchored.MatchString(tok) {
					t.Fatalf("%q does not match %s", tok, Pattern)
				}
				if got := patternRE.FindString("leaked: " + tok + ", oops"); got != tok {
					t.Fatalf("Pattern found %q in text around %q", got, tok)
				}
				gotKind, gotID, err := Parse(tok)
				if err != nil || gotKind != k || gotID != id {
					t.Fatalf("Parse(%q) = %v, %q, %v; want %v, %q, nil", tok, gotKind, gotID, err, k, id)
				}
			}
		})
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		kind       Kind
		wantString string
		wantPrefix string
	}{
		{Code, "authorization_code", "sgc_"},
		{Access, "access_token", "sga_"},
		{Refresh, "refresh_token", "sgr_"},
		{Kind('x'), "unknown", "sgx_"},
		{Kind(0), "unknown", "sg\x00_"},
	}
	for _, tc := range tests {
		if got := tc.kind.String(); got != tc.wantString {
			t.Errorf("Kind(%q).String() = %q, want %q", byte(tc.kind), got, tc.wantString)
		}
		if got := tc.kind.Prefix(); got != tc.wantPrefix {
			t.Errorf("Kind(%q).Prefix() = %q, want %q", byte(tc.kind), got, tc.wantPrefix)
		}
	}
}

func TestNewPanics(t *testing.T) {
	id := NewID()
	tests := []struct {
		name string
		kind Kind
		id   string
	}{
		{"bad kind", Kind('x'), id},
		{"secret kind", Kind('s'), id},
		{"zero kind", 0, id},
		{"empty ID", Access, ""},
		{"short ID", Access, id[1:]},
		{"long ID", Access, id + "0"},
		{"ID with underscore", Access, "_" + id[1:]},
		{"ID with non-ASCII", Access, "\u00e9" + id[2:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%q, %q) did not panic", byte(tc.kind), tc.id)
				}
			}()
			New(tc.kind, tc.id)
		})
	}
}

// TestParseRejectsSingleSubstitutions changes one character of valid tokens
// to every other base62 character, at every position, and checks that Parse
// refuses each result. CRC-32 detects every error burst of up to 32 bits, so
// a change to one byte of the checked part is always caught; a change to the
// check itself no longer matches. This verifies that empirically.
func TestParseRejectsSingleSubstitutions(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 30
	}
	buf := make([]byte, Len)
	for i := range n {
		tok := New(kinds[i%len(kinds)], NewID())
		for pos := range Len {
			copy(buf, tok)
			orig := tok[pos]
			var subs string
			switch pos {
			case 2:
				subs = "acrsxA0" // other kinds, and letters that are no kind
			case 0, 1, 3:
				subs = alphabet + "_-. "
			default:
				subs = alphabet
			}
			for j := 0; j < len(subs); j++ {
				c := subs[j]
				if c == orig {
					continue
				}
				buf[pos] = c
				if k, id, err := Parse(string(buf)); !errors.Is(err, ErrMalformed) {
					t.Fatalf("Parse accepted %q (from %q, position %d %q->%q): %v %q %v",
						buf, tok, pos, orig, c, k, id, err)
				}
			}
		}
	}
}

// TestParseRejectsTranspositions swaps each pair of adjacent, different
// characters: the commonest typing error after a substitution.
func TestParseRejectsTranspositions(t *testing.T) {
	buf := make([]byte, Len)
	for i := range 300 {
		tok := New(kinds[i%len(kinds)], NewID())
		for pos := 0; pos+1 < Len; pos++ {
			if tok[pos] == tok[pos+1] {
				continue
			}
			copy(buf, tok)
			buf[pos], buf[pos+1] = buf[pos+1], buf[pos]
			if _, _, err := Parse(string(buf)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse accepted %q (from %q, positions %d,%d swapped)", buf, tok, pos, pos+1)
			}
		}
	}
}

func TestParseRejects(t *testing.T) {
	valid := New(Access, NewID())
	body := valid[prefixLen:]
	// withCheck fixes up the checksum of a 69-character head, so that only
	// the property under test is wrong.
	withCheck := func(head string) string { return head + string(checksum([]byte(head))) }
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"prefix only", "sga_"},
		{"one character short", valid[:Len-1]},
		{"one character long", valid + "0"},
		{"trailing newline", valid + "\n"},
		{"leading space", " " + valid},
		{"double length", valid + valid},
		{"secret-shaped", NewSecret()},
		{"secret prefix, valid checksum", withCheck("sgs_" + body[:Len-prefixLen-checkLen])},
		{"unknown kind, valid checksum", withCheck("sgx_" + body[:Len-prefixLen-checkLen])},
		{"upper-case prefix", "SGA_" + body},
		{"upper-case prefix, valid checksum", withCheck("SGA_" + body[:Len-prefixLen-checkLen])},
		{"other vendor prefix", "ghp_" + body},
		{"dash instead of underscore", withCheck("sga-" + body[:Len-prefixLen-checkLen])},
		{"underscore in body, valid checksum", withCheck("sga_" + "_" + body[1:Len-prefixLen-checkLen])},
		{"dash in body, valid checksum", withCheck("sga_" + body[:10] + "-" + body[11:Len-prefixLen-checkLen])},
		{"non-ASCII in body, valid checksum", withCheck("sga_" + body[:10] + "\u00e9" + body[12:Len-prefixLen-checkLen])},
		{"NUL in body, valid checksum", withCheck("sga_" + body[:10] + "\x00" + body[11:Len-prefixLen-checkLen])},
		{"padding in body, valid checksum", withCheck("sga_" + body[:10] + "=" + body[11:Len-prefixLen-checkLen])},
		{"bad checksum alphabet", valid[:Len-1] + "+"},
		{"all zeros", "sga_" + strings.Repeat("0", Len-prefixLen)},
		{"URL-encoded", strings.Replace(valid, "_", "%5F", 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, id, err := Parse(tc.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) = %v, %q, %v; want ErrMalformed", tc.in, k, id, err)
			}
			if k != 0 || id != "" {
				t.Errorf("Parse(%q) returned %v, %q with its error", tc.in, k, id)
			}
		})
	}
	// Sanity: withCheck does make a valid token from a valid head.
	if _, _, err := Parse(withCheck(valid[:Len-checkLen])); err != nil {
		t.Fatalf("withCheck broke a valid token: %v", err)
	}
}

// draw calls gen n times and fails unless every value has length size,
// matches re and is new; it returns the values. name and want word the
// failure, e.g. "NewID()" and "22 base62 characters".
func draw(t *testing.T, n int, gen func() string, name string, size int, re *regexp.Regexp, want string) []string {
	t.Helper()
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for range n {
		s := gen()
		if len(s) != size || !re.MatchString(s) {
			t.Fatalf("%s = %q, want %s", name, s, want)
		}
		if seen[s] {
			t.Fatalf("%s repeated %q", name, s)
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

func TestNewID(t *testing.T) {
	for _, id := range draw(t, 10000, NewID, "NewID()", 22, base62RE, "22 base62 characters") {
		if !isBase62(id, 22) || !IsID(id) {
			t.Fatalf("NewID() = %q: isBase62 or IsID refuses it", id)
		}
	}
	for _, bad := range []string{"", NewID()[:21], NewID() + "0", "-" + NewID()[1:], NewRandom()} {
		if IsID(bad) {
			t.Errorf("IsID(%q) = true, want false", bad)
		}
	}
}

func TestNewTokensUnique(t *testing.T) {
	id := NewID()
	seen := make(map[string]bool, 10000)
	for range 10000 {
		tok := New(Refresh, id)
		if seen[tok] {
			t.Fatalf("New repeated %q for one grant", tok)
		}
		seen[tok] = true
	}
}

func TestHash(t *testing.T) {
	for _, s := range []string{"", "x", New(Access, NewID()), New(Code, NewID()), NewSecret()} {
		if got, want := Hash(s), sha256.Sum256([]byte(s)); got != want {
			t.Errorf("Hash(%q) = %x, want SHA-256 %x", s, got, want)
		}
	}
	a, b := New(Access, NewID()), New(Access, NewID())
	if Hash(a) == Hash(b) {
		t.Error("two tokens hash alike")
	}
}

func TestNewSecret(t *testing.T) {
	for _, s := range draw(t, 1000, NewSecret, "NewSecret()", 47, secretRE, "sgs_ and 43 base62 characters") {
		if _, _, err := Parse(s); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Parse accepted the client secret %q", s)
		}
		if patternRE.MatchString(s) {
			t.Fatalf("token Pattern matches the client secret %q", s)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	for _, k := range kinds {
		f.Add(New(k, NewID()))
	}
	valid := New(Access, NewID())
	for _, s := range []string{"", "sga_", valid[:Len-1], valid + "0", NewSecret(),
		"SGA_" + valid[prefixLen:], strings.Replace(valid, "a", "\u00e9", 1), strings.Repeat("0", Len)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, id, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || k != 0 || id != "" {
				t.Fatalf("Parse(%q) = %v, %q, %v", s, k, id, err)
			}
			return
		}
		// Accepted: the shape holds, and the token names its kind and grant.
		if len(s) != Len || !anchored.MatchString(s) || !validKind(k) ||
			s[:prefixLen] != k.Prefix() || id != s[prefixLen:prefixLen+GrantLen] || !isBase62(id, GrantLen) {
			t.Fatalf("Parse(%q) accepted a misshapen token: %v, %q", s, k, id)
		}
		// A fresh token for the same kind and grant parses the same way.
		k2, id2, err := Parse(New(k, id))
		if err != nil || k2 != k || id2 != id {
			t.Fatalf("New(%v, %q) does not round-trip: %v, %q, %v", k, id, k2, id2, err)
		}
	})
}

var sinkKind Kind

func BenchmarkParse(b *testing.B) {
	tok := New(Access, NewID())
	b.ReportAllocs()
	for b.Loop() {
		k, _, err := Parse(tok)
		if err != nil {
			b.Fatal(err)
		}
		sinkKind = k
	}
}

func BenchmarkNew(b *testing.B) {
	id := NewID()
	b.ReportAllocs()
	for b.Loop() {
		_ = New(Access, id)
	}
}
