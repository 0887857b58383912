package scopes_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/scopes"
)

type errorCase struct {
	name       string
	in         string
	wantKind   scopes.ErrorKind
	wantToken  string
	wantOffset int
}

// errorCases are inputs Parse must reject, grouped by kind. They double as
// the seed corpus of FuzzParse.
var errorCases = []errorCase{
	// ErrUnknownScope
	{name: "unknown name", in: "website:foo:read", wantKind: scopes.ErrUnknownScope, wantToken: "website:foo:read"},
	{name: "unknown after valid", in: "bucket:url:read website:foo:write", wantKind: scopes.ErrUnknownScope, wantToken: "website:foo:write", wantOffset: 16},
	{name: "wrong case name", in: "Website:people:data:read", wantKind: scopes.ErrUnknownScope, wantToken: "Website:people:data:read"},
	{name: "upper case everything", in: "BUCKET:URL:READ", wantKind: scopes.ErrUnknownScope, wantToken: "BUCKET:URL:READ"},
	{name: "no colon", in: "website", wantKind: scopes.ErrUnknownScope, wantToken: "website"},
	{name: "bare permission", in: "read", wantKind: scopes.ErrUnknownScope, wantToken: "read"},
	{name: "openid", in: "openid", wantKind: scopes.ErrUnknownScope, wantToken: "openid"},
	{name: "parent of a name", in: "website:people:read", wantKind: scopes.ErrUnknownScope, wantToken: "website:people:read"},
	{name: "permission twice", in: "website:people:data:read:write", wantKind: scopes.ErrUnknownScope, wantToken: "website:people:data:read:write"},
	{name: "extra segment", in: "website:people:data:extra:read", wantKind: scopes.ErrUnknownScope, wantToken: "website:people:data:extra:read"},
	{name: "quote and backslash", in: `web"site:x\y:read`, wantKind: scopes.ErrUnknownScope, wantToken: `web"site:x\y:read`},
	{name: "hyphen", in: "website:people-data:read", wantKind: scopes.ErrUnknownScope, wantToken: "website:people-data:read"},
	{name: "prefix wildcard", in: "website:*:read", wantKind: scopes.ErrUnknownScope, wantToken: "website:*:read"},

	// ErrMissingPermission
	{name: "website name alone", in: "website:people:data", wantKind: scopes.ErrMissingPermission, wantToken: "website:people:data"},
	{name: "plugin name alone", in: "bucket:url", wantKind: scopes.ErrMissingPermission, wantToken: "bucket:url"},
	{name: "name alone after valid", in: "bucket:url:read plugin:subscription:bill", wantKind: scopes.ErrMissingPermission, wantToken: "plugin:subscription:bill", wantOffset: 16},
	{name: "two-part name alone", in: "website:settings", wantKind: scopes.ErrMissingPermission, wantToken: "website:settings"},

	// ErrUnknownPermission
	{name: "capitalised write", in: "website:people:data:Write", wantKind: scopes.ErrUnknownPermission, wantToken: "website:people:data:Write"},
	{name: "admin", in: "website:people:data:admin", wantKind: scopes.ErrUnknownPermission, wantToken: "website:people:data:admin"},
	{name: "upper read", in: "bucket:url:READ", wantKind: scopes.ErrUnknownPermission, wantToken: "bucket:url:READ"},
	{name: "readwrite", in: "bucket:url:readwrite", wantKind: scopes.ErrUnknownPermission, wantToken: "bucket:url:readwrite"},
	{name: "abbreviated", in: "bucket:url:r", wantKind: scopes.ErrUnknownPermission, wantToken: "bucket:url:r"},
	{name: "plural after valid", in: "website:people:data:read website:people:data:writes", wantKind: scopes.ErrUnknownPermission, wantToken: "website:people:data:writes", wantOffset: 25},
	{name: "wildcard permission", in: "website:settings:*", wantKind: scopes.ErrUnknownPermission, wantToken: "website:settings:*"},

	// ErrEmptySegment
	{name: "double colon", in: "website::read", wantKind: scopes.ErrEmptySegment, wantToken: "website::read"},
	{name: "trailing colon", in: "website:people:", wantKind: scopes.ErrEmptySegment, wantToken: "website:people:"},
	{name: "empty permission", in: "website:people:data:", wantKind: scopes.ErrEmptySegment, wantToken: "website:people:data:"},
	{name: "leading colon", in: ":website:people:data:read", wantKind: scopes.ErrEmptySegment, wantToken: ":website:people:data:read"},
	{name: "inner empty segment", in: "website:people::data:read", wantKind: scopes.ErrEmptySegment, wantToken: "website:people::data:read"},
	{name: "lone colon after valid", in: "bucket:url:read :", wantKind: scopes.ErrEmptySegment, wantToken: ":", wantOffset: 16},
	{name: "colons only", in: ":::", wantKind: scopes.ErrEmptySegment, wantToken: ":::"},

	// ErrDuplicate
	{name: "same twice", in: "bucket:url:read bucket:url:read", wantKind: scopes.ErrDuplicate, wantToken: "bucket:url:read", wantOffset: 16},
	{name: "same twice apart", in: "bucket:url:write website:people:data:read bucket:url:write", wantKind: scopes.ErrDuplicate, wantToken: "bucket:url:write", wantOffset: 42},
	{name: "third copy not reached", in: "website:settings:read website:settings:read website:settings:read", wantKind: scopes.ErrDuplicate, wantToken: "website:settings:read", wantOffset: 22},

	// ErrWhitespace
	{name: "leading space", in: " bucket:url:read", wantKind: scopes.ErrWhitespace, wantToken: "", wantOffset: 0},
	{name: "trailing space", in: "bucket:url:read ", wantKind: scopes.ErrWhitespace, wantToken: "", wantOffset: 16},
	{name: "double space", in: "bucket:url:read  bucket:url:write", wantKind: scopes.ErrWhitespace, wantToken: "", wantOffset: 16},
	{name: "only a space", in: " ", wantKind: scopes.ErrWhitespace, wantToken: "", wantOffset: 0},
	{name: "tab separator", in: "bucket:url:read\tbucket:url:write", wantKind: scopes.ErrWhitespace, wantToken: "bucket:url:read\tbucket:url:write"},
	{name: "trailing newline", in: "bucket:url:read\n", wantKind: scopes.ErrWhitespace, wantToken: "bucket:url:read\n"},
	{name: "crlf separator", in: "bucket:url:read\r\nbucket:url:write", wantKind: scopes.ErrWhitespace, wantToken: "bucket:url:read\r\nbucket:url:write"},
	{name: "NUL", in: "bucket:url:read\x00", wantKind: scopes.ErrWhitespace, wantToken: "bucket:url:read\x00"},
	{name: "DEL", in: "bucket:\x7furl:read", wantKind: scopes.ErrWhitespace, wantToken: "bucket:\x7furl:read"},
	{name: "vertical tab in second token", in: "bucket:url:read bucket:url:write\v", wantKind: scopes.ErrWhitespace, wantToken: "bucket:url:write\v", wantOffset: 16},

	// ErrNonASCII
	{name: "accented letter", in: "website:p\u00e9ople:data:read", wantKind: scopes.ErrNonASCII, wantToken: "website:p\u00e9ople:data:read"},
	{name: "no-break space", in: "bucket:url:read website:people:data:read\u00a0", wantKind: scopes.ErrNonASCII, wantToken: "website:people:data:read\u00a0", wantOffset: 16},
	{name: "ideographic space", in: "bucket:url:read\u3000bucket:url:write", wantKind: scopes.ErrNonASCII, wantToken: "bucket:url:read\u3000bucket:url:write"},
	{name: "invalid UTF-8", in: "\xff", wantKind: scopes.ErrNonASCII, wantToken: "\xff"},
	{name: "cyrillic homoglyph", in: "bucket:url:re\u0430d", wantKind: scopes.ErrNonASCII, wantToken: "bucket:url:re\u0430d"},
	{name: "fullwidth colon", in: "bucket\uff1aurl:read", wantKind: scopes.ErrNonASCII, wantToken: "bucket\uff1aurl:read"},

	// ErrTooLong (checked before anything else)
	{name: "long garbage", in: strings.Repeat("a", scopes.MaxLen+1), wantKind: scopes.ErrTooLong, wantToken: strings.Repeat("a", 32), wantOffset: scopes.MaxLen},
	{name: "long spaces", in: strings.Repeat(" ", scopes.MaxLen+1), wantKind: scopes.ErrTooLong, wantToken: strings.Repeat(" ", 32), wantOffset: scopes.MaxLen},
	{name: "long with duplicates", in: scopes.All().String() + strings.Repeat(" bucket:url:read", 20), wantKind: scopes.ErrTooLong, wantToken: "bucket:url:read bucket:url:write", wantOffset: scopes.MaxLen},
	{name: "long non-ASCII", in: strings.Repeat("\u00e9", scopes.MaxLen), wantKind: scopes.ErrTooLong, wantToken: strings.Repeat("\u00e9", 16), wantOffset: scopes.MaxLen},
}

func TestParseErrors(t *testing.T) {
	seen := map[scopes.ErrorKind]int{}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scopes.Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tc.in, got)
			}
			if got != (scopes.Set{}) {
				t.Errorf("Parse(%q) returned non-empty set %v with its error", tc.in, got)
			}
			var e *scopes.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T is not *scopes.Error", tc.in, err)
			}
			if e.Kind != tc.wantKind || e.Token != tc.wantToken || e.Offset != tc.wantOffset {
				t.Errorf("Parse(%q) = {%v, %q, %d}, want {%v, %q, %d}", tc.in,
					e.Kind, e.Token, e.Offset, tc.wantKind, tc.wantToken, tc.wantOffset)
			}
			if !errors.Is(err, tc.wantKind) {
				t.Errorf("errors.Is(err, %v) = false", tc.wantKind)
			}
			for k := scopes.ErrUnknownScope; k <= scopes.ErrTooLong; k++ {
				if k != tc.wantKind && errors.Is(err, k) {
					t.Errorf("errors.Is(err, %v) = true, want false", k)
				}
			}
			checkErrorText(t, err)

			// UnmarshalText is as strict, and leaves the target alone.
			s := scopes.MustParse("bucket:url:read")
			if err := s.UnmarshalText([]byte(tc.in)); !errors.Is(err, tc.wantKind) {
				t.Errorf("UnmarshalText(%q) = %v, want %v", tc.in, err, tc.wantKind)
			}
			if s != scopes.MustParse("bucket:url:read") {
				t.Errorf("UnmarshalText changed the set on error: %v", s)
			}
		})
		seen[tc.wantKind]++
	}
	for k := scopes.ErrUnknownScope; k <= scopes.ErrTooLong; k++ {
		if seen[k] < 3 {
			t.Errorf("error kind %v has %d table cases, want at least 3", k, seen[k])
		}
	}
}

// rfc6749Description is the character set RFC 6749 §5.2 allows in
// error_description.
var rfc6749Description = regexp.MustCompile(`^[\x20\x21\x23-\x5B\x5D-\x7E]*$`)

// checkErrorText checks that err's text is fit for an OAuth error_description.
func checkErrorText(t testing.TB, err error) {
	t.Helper()
	msg := err.Error()
	if !rfc6749Description.MatchString(msg) {
		t.Errorf("error text %q has characters outside RFC 6749 error_description's set", msg)
	}
	if !strings.HasPrefix(msg, "scopes: ") {
		t.Errorf("error text %q does not start with the package name", msg)
	}
	if len(msg) > 400 {
		t.Errorf("error text is %d bytes long, want at most 400", len(msg))
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"unknown", "bucket:url:read website:foo:read", "scopes: unknown scope 'website:foo:read' at offset 16"},
		{"stray space", "bucket:url:read ", "scopes: bad whitespace (scopes are separated by exactly one space) at offset 16"},
		{"tab and non-ASCII escaped", "bucket:url:read\t\u00e9", "scopes: bad whitespace (scopes are separated by exactly one space) 'bucket:url:read%09%C3%A9' at offset 0"},
		{"quotes escaped", `a'b"c\d%e`, "scopes: unknown scope 'a%27b%22c%5Cd%25e' at offset 0"},
		{"missing permission", "website:people:data", "scopes: missing permission (want :read or :write) 'website:people:data' at offset 0"},
		{"long token cut", strings.Repeat("x", 100), "scopes: unknown scope '" + strings.Repeat("x", 64) + "'... at offset 0"},
		{"too long", strings.Repeat("x", scopes.MaxLen+1), "scopes: scope string too long (more than 2428 bytes) '" + strings.Repeat("x", 32) + "' at offset 2428"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scopes.Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tc.in)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Error() = %q\nwant      %q", got, tc.want)
			}
			checkErrorText(t, err)
		})
	}
	// A worst-case token: 64 bytes that each need escaping.
	err := &scopes.Error{Kind: scopes.ErrMissingPermission, Token: strings.Repeat("\xff", 1000), Offset: 1 << 40}
	checkErrorText(t, err)
	// Kinds are errors too, with stable text.
	if got := scopes.ErrDuplicate.Error(); got != "scopes: duplicate scope" {
		t.Errorf("ErrDuplicate.Error() = %q", got)
	}
	if got := scopes.ErrorKind(200).String(); got != "ErrorKind(200)" {
		t.Errorf("ErrorKind(200).String() = %q", got)
	}
	if errors.Is(err, errors.New("scopes: missing permission")) {
		t.Errorf("errors.Is matched an unrelated error")
	}
}

type validCase struct {
	name      string
	in        string
	want      scopes.Set
	wantCanon string
}

var (
	peopleRead  = scopes.Scope{Name: "website:people:data", Perm: scopes.Read}
	peopleWrite = scopes.Scope{Name: "website:people:data", Perm: scopes.Write}
	bucketRead  = scopes.Scope{Name: "bucket:url", Perm: scopes.Read}
	billWrite   = scopes.Scope{Name: "plugin:subscription:bill", Perm: scopes.Write}
)

// validCases are inputs Parse must accept. They double as FuzzParse's seed
// corpus.
var validCases = []validCase{
	{name: "empty", in: "", want: scopes.Set{}, wantCanon: ""},
	{name: "one read", in: "bucket:url:read", want: scopes.Of(bucketRead), wantCanon: "bucket:url:read"},
	{name: "write only", in: "website:people:data:write", want: scopes.Of(peopleWrite), wantCanon: "website:people:data:write"},
	{name: "write before read", in: "website:people:data:write website:people:data:read", want: scopes.Of(peopleRead, peopleWrite), wantCanon: "website:people:data:read website:people:data:write"},
	{name: "catalogue order", in: "plugin:subscription:bill:write bucket:url:read", want: scopes.Of(bucketRead, billWrite), wantCanon: "bucket:url:read plugin:subscription:bill:write"},
	{name: "similar names", in: "website:helpdesk:settings:read website:settings:read", want: scopes.Of(
		scopes.Scope{Name: "website:settings", Perm: scopes.Read},
		scopes.Scope{Name: "website:helpdesk:settings", Perm: scopes.Read}),
		wantCanon: "website:settings:read website:helpdesk:settings:read"},
	{name: "every scope", in: scopes.All().String(), want: scopes.All(), wantCanon: scopes.All().String()},
	{name: "every scope reversed", in: reverseTokens(scopes.All().String()), want: scopes.All(), wantCanon: scopes.All().String()},
	{name: "messages write, the source's example", in: "website:conversation:messages:write", want: scopes.Of(scopes.Scope{Name: "website:conversation:messages", Perm: scopes.Write}), wantCanon: "website:conversation:messages:write"},
}

func reverseTokens(s string) string {
	f := strings.Split(s, " ")
	for i, j := 0, len(f)-1; i < j; i, j = i+1, j-1 {
		f[i], f[j] = f[j], f[i]
	}
	return strings.Join(f, " ")
}

func TestParseValid(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scopes.Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if s := got.String(); s != tc.wantCanon {
				t.Errorf("String() = %q, want %q", s, tc.wantCanon)
			}
			if got.Len() != len(strings.Fields(tc.in)) {
				t.Errorf("Len() = %d, want %d", got.Len(), len(strings.Fields(tc.in)))
			}
			if got := scopes.MustParse(tc.in); got != tc.want {
				t.Errorf("MustParse(%q) = %v", tc.in, got)
			}
		})
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, scopes.ErrUnknownScope) {
			t.Errorf("MustParse panicked with %v, want an ErrUnknownScope error", r)
		}
	}()
	scopes.MustParse("website:foo:read")
}

func TestOfPanics(t *testing.T) {
	for _, sc := range []scopes.Scope{
		{Name: "website:foo", Perm: scopes.Read},
		{Name: "bucket:url", Perm: 0},
		{Name: "bucket:url", Perm: 3},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Of(%v) did not panic", sc)
				}
			}()
			scopes.Of(sc)
		}()
	}
}

func TestParseScope(t *testing.T) {
	valid := []struct {
		name string
		in   string
		want scopes.Scope
	}{
		{"read", "bucket:url:read", bucketRead},
		{"write", "website:people:data:write", peopleWrite},
		{"three segments", "plugin:subscription:bill:write", billWrite},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scopes.ParseScope(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("ParseScope(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			if got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
	invalid := []struct {
		name      string
		in        string
		wantKind  scopes.ErrorKind
		wantToken string
	}{
		{"empty", "", scopes.ErrEmptySegment, ""},
		{"two tokens", "bucket:url:read bucket:url:write", scopes.ErrWhitespace, "bucket:url:read bucket:url:write"},
		{"leading space", " bucket:url:read", scopes.ErrWhitespace, " bucket:url:read"},
		{"missing permission", "bucket:url", scopes.ErrMissingPermission, "bucket:url"},
		{"unknown permission", "bucket:url:admin", scopes.ErrUnknownPermission, "bucket:url:admin"},
		{"unknown scope", "bucket:uri:read", scopes.ErrUnknownScope, "bucket:uri:read"},
		{"empty segment", "bucket::read", scopes.ErrEmptySegment, "bucket::read"},
		{"non-ASCII", "bucket:url:r\u00e9ad", scopes.ErrNonASCII, "bucket:url:r\u00e9ad"},
		{"too long", strings.Repeat("b", scopes.MaxLen+1), scopes.ErrTooLong, strings.Repeat("b", 32)},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scopes.ParseScope(tc.in)
			var e *scopes.Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseScope(%q) = %v, %v; want *Error", tc.in, got, err)
			}
			if e.Kind != tc.wantKind || e.Token != tc.wantToken {
				t.Errorf("ParseScope(%q) = {%v, %q}, want {%v, %q}", tc.in, e.Kind, e.Token, tc.wantKind, tc.wantToken)
			}
			if got != (scopes.Scope{}) {
				t.Errorf("ParseScope(%q) returned %v with its error", tc.in, got)
			}
			checkErrorText(t, err)
		})
	}
}

var nameRE = regexp.MustCompile(`^[a-z]+(:[a-z]+)+$`)

func TestCatalogue(t *testing.T) {
	cat := scopes.Catalogue()
	if len(cat) != 35 {
		t.Fatalf("catalogue has %d scopes, want 35", len(cat))
	}
	seen := map[string]bool{}
	for i, d := range cat {
		if seen[d.Name] {
			t.Errorf("duplicate name %q", d.Name)
		}
		seen[d.Name] = true
		if !nameRE.MatchString(d.Name) {
			t.Errorf("name %q does not match %v", d.Name, nameRE)
		}
		if strings.HasSuffix(d.Name, ":read") || strings.HasSuffix(d.Name, ":write") {
			t.Errorf("name %q ends in a permission: tokens would be ambiguous", d.Name)
		}
		if strings.TrimSpace(d.Description) == "" || strings.TrimSpace(d.Route) == "" {
			t.Errorf("%q: empty description or route", d.Name)
		}
		if !d.Read || !d.Write {
			t.Errorf("%q: Read=%v Write=%v, want both", d.Name, d.Read, d.Write)
		}
		wantKind := scopes.KindPlugin
		if strings.HasPrefix(d.Name, "website:") {
			wantKind = scopes.KindWebsite
		}
		if d.Kind != wantKind {
			t.Errorf("%q: kind %v, want %v", d.Name, d.Kind, wantKind)
		}
		got, ok := scopes.Lookup(d.Name)
		if !ok || got != d {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v", d.Name, got, ok, d)
		}
		// Canonical order is catalogue order, read before write.
		want := []string{d.Name + ":read", d.Name + ":write"}
		if toks := scopes.All().Strings()[2*i : 2*i+2]; toks[0] != want[0] || toks[1] != want[1] {
			t.Errorf("All().Strings()[%d:%d] = %q, want %q", 2*i, 2*i+2, toks, want)
		}
	}
	for _, name := range []string{"bucket:url", "plugin:subscription:bill"} {
		if d, _ := scopes.Lookup(name); d.Kind != scopes.KindPlugin {
			t.Errorf("%s is not a plugin scope", name)
		}
	}
	for _, name := range []string{"", "website", "website:people", "website:people:data:read", "Bucket:url"} {
		if _, ok := scopes.Lookup(name); ok {
			t.Errorf("Lookup(%q) found a scope", name)
		}
	}

	// Callers get a copy.
	cat[0].Name = "mutated"
	if scopes.Catalogue()[0].Name == "mutated" {
		t.Error("Catalogue returned the package's own table")
	}

	if n := scopes.All().Len(); n != 70 {
		t.Errorf("All().Len() = %d, want 70", n)
	}
	if n := scopes.WebsiteScopes().Len(); n != 66 {
		t.Errorf("WebsiteScopes().Len() = %d, want 66", n)
	}
	if n := scopes.PluginScopes().Len(); n != 4 {
		t.Errorf("PluginScopes().Len() = %d, want 4", n)
	}
	if !scopes.WebsiteScopes().Intersect(scopes.PluginScopes()).IsEmpty() ||
		scopes.WebsiteScopes().Union(scopes.PluginScopes()) != scopes.All() {
		t.Error("website and plugin scopes do not partition All()")
	}
	if got := scopes.PluginScopes().String(); got != "bucket:url:read bucket:url:write plugin:subscription:bill:read plugin:subscription:bill:write" {
		t.Errorf("PluginScopes() = %q", got)
	}
	if len(scopes.All().String()) > scopes.MaxLen {
		t.Errorf("All().String() is longer than MaxLen")
	}
}

func TestWriteNeverImpliesRead(t *testing.T) {
	for _, d := range scopes.Catalogue() {
		w := scopes.Of(scopes.Scope{Name: d.Name, Perm: scopes.Write})
		r := scopes.Of(scopes.Scope{Name: d.Name, Perm: scopes.Read})
		if w.Contains(scopes.Scope{Name: d.Name, Perm: scopes.Read}) || w.Has(d.Name, scopes.Read) {
			t.Errorf("%s:write contains read", d.Name)
		}
		if r.Contains(scopes.Scope{Name: d.Name, Perm: scopes.Write}) || r.Has(d.Name, scopes.Write) {
			t.Errorf("%s:read contains write", d.Name)
		}
		if !w.Has(d.Name, scopes.Write) || !r.Has(d.Name, scopes.Read) {
			t.Errorf("%s: a set does not hold its own scope", d.Name)
		}
		if r.SubsetOf(w) || w.SubsetOf(r) {
			t.Errorf("%s: read and write are subsets of each other", d.Name)
		}
		both := w.Union(r)
		if !r.SubsetOf(both) || !w.SubsetOf(both) || both.SubsetOf(w) {
			t.Errorf("%s: wrong subset relation with read+write", d.Name)
		}
	}
	// A write-only grant does not satisfy a GET.
	granted := scopes.MustParse("website:people:data:write")
	if granted.Has("website:people:data", scopes.RequiredPermission("GET")) {
		t.Error("write-only grant allowed GET")
	}
	if !granted.Has("website:people:data", scopes.RequiredPermission("PATCH")) {
		t.Error("write grant refused PATCH")
	}
	// Unknown names and permissions are never held, even by All().
	all := scopes.All()
	if all.Has("website:foo", scopes.Read) || all.Has("bucket:url", 0) || all.Has("bucket:url", 3) ||
		all.Contains(scopes.Scope{Name: "bucket:url:read", Perm: scopes.Read}) {
		t.Error("All() holds something outside the catalogue")
	}
}

func TestRequiredPermission(t *testing.T) {
	tests := []struct {
		method string
		want   scopes.Permission
	}{
		{"GET", scopes.Read},
		{"HEAD", scopes.Read},
		{"OPTIONS", scopes.Read},
		{"TRACE", scopes.Read},
		{"CONNECT", scopes.Read},
		{"PROPFIND", scopes.Read},
		{"", scopes.Read},
		{"POST", scopes.Write},
		{"PUT", scopes.Write},
		{"PATCH", scopes.Write},
		{"DELETE", scopes.Write},
		// Methods are case-sensitive: these are not the write methods.
		{"post", scopes.Read},
		{"Delete", scopes.Read},
		{"PUT ", scopes.Read},
	}
	for _, tc := range tests {
		if got := scopes.RequiredPermission(tc.method); got != tc.want {
			t.Errorf("RequiredPermission(%q) = %v, want %v", tc.method, got, tc.want)
		}
	}
}

func TestStringers(t *testing.T) {
	tests := []struct{ got, want string }{
		{scopes.Read.String(), "read"},
		{scopes.Write.String(), "write"},
		{scopes.Permission(0).String(), "Permission(0)"},
		{scopes.KindWebsite.String(), "website"},
		{scopes.KindPlugin.String(), "plugin"},
		{scopes.Kind(9).String(), "Kind(9)"},
		{peopleWrite.String(), "website:people:data:write"},
		{scopes.Scope{Name: "x:y", Perm: scopes.Read}.String(), "x:y:read"},
		{scopes.Set{}.String(), ""},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if (scopes.Set{}).Strings() != nil || (scopes.Set{}).Scopes() != nil {
		t.Error("empty set has non-nil Strings or Scopes")
	}
}

func TestJSON(t *testing.T) {
	type grant struct {
		Scopes scopes.Set `json:"scopes"`
	}
	g := grant{Scopes: scopes.MustParse("website:people:data:write bucket:url:read")}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"scopes":"bucket:url:read website:people:data:write"}`; string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var back grant
	if err := json.Unmarshal(b, &back); err != nil || back != g {
		t.Errorf("Unmarshal(%s) = %v, %v", b, back, err)
	}
	if err := json.Unmarshal([]byte(`{"scopes":""}`), &back); err != nil || !back.Scopes.IsEmpty() {
		t.Errorf("empty string: %v, %v", back, err)
	}
	err = json.Unmarshal([]byte(`{"scopes":"bucket:url:read  bucket:url:write"}`), &back)
	if !errors.Is(err, scopes.ErrWhitespace) {
		t.Errorf("Unmarshal of a bad scope string: %v, want ErrWhitespace", err)
	}
	b, err = json.Marshal(grant{})
	if err != nil || string(b) != `{"scopes":""}` {
		t.Errorf("Marshal(empty) = %s, %v", b, err)
	}
	got, err := scopes.MustParse("bucket:url:write").AppendText([]byte("x="))
	if err != nil || string(got) != "x=bucket:url:write" {
		t.Errorf("AppendText = %q, %v", got, err)
	}
}

func TestZeroAllocs(t *testing.T) {
	all := scopes.All()
	ten := tenScopes()
	var sink bool
	tests := []struct {
		name string
		f    func()
	}{
		{"Contains", func() { sink = all.Contains(peopleWrite) }},
		{"Contains unknown", func() { sink = all.Contains(scopes.Scope{Name: "website:nope", Perm: scopes.Read}) }},
		{"SubsetOf", func() { sink = ten.SubsetOf(all) }},
		{"Has", func() { sink = ten.Has("website:conversation:messages", scopes.Write) }},
		{"Parse full", func() { _, err := scopes.Parse(fullString); sink = err == nil }},
		{"RequiredPermission", func() { sink = scopes.RequiredPermission("PATCH") == scopes.Write }},
	}
	for _, tc := range tests {
		if n := testing.AllocsPerRun(1000, tc.f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tc.name, n)
		}
	}
	_ = sink
	// String builds into one buffer.
	if n := testing.AllocsPerRun(1000, func() { _ = all.String() }); n != 1 {
		t.Errorf("String: %v allocations per run, want 1", n)
	}
}

var fullString = scopes.All().String()

// tenScopes is a realistic grant: ten scopes of a messaging plugin.
func tenScopes() scopes.Set {
	return scopes.MustParse("website:conversation:messages:read website:conversation:messages:write " +
		"website:conversation:sessions:read website:conversation:states:write website:people:profiles:read " +
		"website:people:data:read website:people:data:write website:operators:read bucket:url:read " +
		"website:visitors:read")
}
