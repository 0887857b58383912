package scopes

import (
	"iter"
	"math/bits"
	"strconv"
	"strings"
)

// Permission is the access a scope grants: Read or Write. The two are
// independent; write never implies read.
type Permission uint8

// The permissions a scope can carry.
const (
	Read  Permission = 1
	Write Permission = 2
)

// String returns "read" or "write", the permission's spelling in a scope
// token.
func (p Permission) String() string {
	switch p {
	case Read:
		return "read"
	case Write:
		return "write"
	}
	return "Permission(" + strconv.Itoa(int(p)) + ")"
}

// Kind says how a scope is granted.
type Kind uint8

// The kinds of scope.
const (
	// KindWebsite scopes (website:…) reach one website's data. They are
	// granted only through a website operator's consent (authorization code
	// flow) and the token is bound to that website.
	KindWebsite Kind = iota + 1
	// KindPlugin scopes (bucket:url, plugin:subscription:bill) concern the
	// plugin itself and come from the client-credentials grant.
	KindPlugin
)

// String returns "website" or "plugin".
func (k Kind) String() string {
	switch k {
	case KindWebsite:
		return "website"
	case KindPlugin:
		return "plugin"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Def is one entry of the catalogue.
type Def struct {
	Name        string // "website:people:data"
	Description string // plain-words description, for consent and review pages
	Route       string // example REST API route that needs the scope
	Kind        Kind
	Read, Write bool // which permissions exist for the scope
	// ReadText and WriteText say in one plain sentence what the read and
	// the write permission let a plugin do ("See conversation metadata",
	// "Update conversation metadata"): consent and review pages show the
	// one matching the permission asked, never the other.
	ReadText, WriteText string
}

// Sentence returns the plain sentence for permission p of the scope (no
// final period), or "" when p is neither Read nor Write.
func (d Def) Sentence(p Permission) string {
	switch p {
	case Read:
		return d.ReadText
	case Write:
		return d.WriteText
	}
	return ""
}

// numDefs is the number of scopes in the catalogue; numBits the number of
// (scope, permission) pairs a Set can hold.
const (
	numDefs = len(catalogue)
	numBits = 2 * numDefs
)

// canonicalAllLen is len(All().String()); a test keeps it in step with the
// catalogue.
const canonicalAllLen = 2172

// MaxLen is the longest input Parse accepts, in bytes: the canonical form of
// the full set plus a margin. Longer input fails with ErrTooLong before
// anything else is looked at.
const MaxLen = canonicalAllLen + 256

// byName maps a catalogue name to its index in the catalogue.
var byName = func() map[string]int {
	m := make(map[string]int, numDefs)
	for i, d := range catalogue {
		m[d.Name] = i
	}
	return m
}()

// tokens holds the scope token of every bit: tokens[2i] is catalogue[i]'s
// read token, tokens[2i+1] its write token.
var tokens = func() (t [numBits]string) {
	for i, d := range catalogue {
		t[2*i] = d.Name + ":read"
		t[2*i+1] = d.Name + ":write"
	}
	return t
}()

// Catalogue returns every scope of the catalogue, in catalogue order (the
// order of the source table, which is also the canonical order). The slice is
// a fresh copy on every call; callers may keep or modify it.
func Catalogue() []Def {
	out := make([]Def, numDefs)
	copy(out, catalogue[:])
	return out
}

// Lookup returns the catalogue entry for a scope name such as
// "website:people:data" (no permission suffix).
func Lookup(name string) (Def, bool) {
	i, ok := byName[name]
	if !ok {
		return Def{}, false
	}
	return catalogue[i], true
}

// Scope is one scope token: a catalogue name and a permission.
type Scope struct {
	Name string
	Perm Permission
}

// String returns the scope token, such as "website:people:data:write".
func (s Scope) String() string {
	if b, ok := bitOf(s.Name, s.Perm); ok {
		return tokens[b]
	}
	return s.Name + ":" + s.Perm.String()
}

// bitOf returns the bit that holds (name, p) in a Set. It does not allocate.
func bitOf(name string, p Permission) (int, bool) {
	if p != Read && p != Write {
		return 0, false
	}
	i, ok := byName[name]
	if !ok {
		return 0, false
	}
	return 2*i + int(p) - 1, true
}

// scopeOf is the inverse of bitOf.
func scopeOf(bit int) Scope {
	return Scope{Name: catalogue[bit/2].Name, Perm: Permission(bit%2 + 1)}
}

// Set is a set of scopes (catalogue name × permission). It is a small value
// type: copy it freely, compare it with ==; the zero value is the empty set.
// Its methods never modify the receiver.
type Set struct {
	b [2]uint64 // bit 2i: catalogue[i] read; bit 2i+1: catalogue[i] write
}

func (s *Set) set(bit int) { s.b[bit>>6] |= 1 << (bit & 63) }

func (s Set) has(bit int) bool { return s.b[bit>>6]&(1<<(bit&63)) != 0 }

// Precomputed sets.
var (
	allSet     = maskWhere(func(Def) bool { return true })
	websiteSet = maskWhere(func(d Def) bool { return d.Kind == KindWebsite })
	pluginSet  = maskWhere(func(d Def) bool { return d.Kind == KindPlugin })
)

func maskWhere(keep func(Def) bool) Set {
	var s Set
	for i, d := range catalogue {
		if !keep(d) {
			continue
		}
		if d.Read {
			s.set(2 * i)
		}
		if d.Write {
			s.set(2*i + 1)
		}
	}
	return s
}

// Of returns the set of the given scopes. It panics if a scope's name is not
// in the catalogue or its permission is neither Read nor Write: it is meant
// for constants and tests, where that is a programming error.
func Of(ss ...Scope) Set {
	var s Set
	for _, sc := range ss {
		b, ok := bitOf(sc.Name, sc.Perm)
		if !ok {
			panic("scopes.Of: invalid scope " + strconv.Quote(sc.Name+":"+sc.Perm.String()))
		}
		s.set(b)
	}
	return s
}

// All returns the set of every scope of the catalogue with every permission
// that exists for it (70 scopes).
func All() Set { return allSet }

// WebsiteScopes returns every website scope (website:…), read and write.
func WebsiteScopes() Set { return websiteSet }

// PluginScopes returns every plugin scope (bucket:url and
// plugin:subscription:bill), read and write.
func PluginScopes() Set { return pluginSet }

// Len returns the number of scopes in s.
func (s Set) Len() int { return bits.OnesCount64(s.b[0]) + bits.OnesCount64(s.b[1]) }

// IsEmpty reports whether s holds no scope.
func (s Set) IsEmpty() bool { return s.b[0]|s.b[1] == 0 }

// Union returns s ∪ o.
func (s Set) Union(o Set) Set { return Set{[2]uint64{s.b[0] | o.b[0], s.b[1] | o.b[1]}} }

// Intersect returns s ∩ o.
func (s Set) Intersect(o Set) Set { return Set{[2]uint64{s.b[0] & o.b[0], s.b[1] & o.b[1]}} }

// Difference returns s \ o: the scopes of s that are not in o.
func (s Set) Difference(o Set) Set { return Set{[2]uint64{s.b[0] &^ o.b[0], s.b[1] &^ o.b[1]}} }

// SubsetOf reports whether every scope of s is in o (s ⊆ o). The empty set is
// a subset of every set. It does not allocate.
func (s Set) SubsetOf(o Set) bool { return s.b[0]&^o.b[0] == 0 && s.b[1]&^o.b[1] == 0 }

// Contains reports whether sc is in s. Write never implies read: a set with
// only "x:write" does not contain "x:read". It does not allocate.
func (s Set) Contains(sc Scope) bool { return s.Has(sc.Name, sc.Perm) }

// Has reports whether s holds the scope name (such as "website:people:data")
// with permission p. Unknown names and permissions are never held. It does
// not allocate.
func (s Set) Has(name string, p Permission) bool {
	b, ok := bitOf(name, p)
	return ok && s.has(b)
}

// members yields the bit of every scope in s, in canonical order.
func (s Set) members() iter.Seq[int] {
	return func(yield func(int) bool) {
		for w, word := range s.b {
			for word != 0 {
				if !yield(w<<6 | bits.TrailingZeros64(word)) {
					return
				}
				word &= word - 1
			}
		}
	}
}

// textLen returns len(s.String()).
func (s Set) textLen() int {
	n := 0
	for b := range s.members() {
		n += len(tokens[b]) + 1
	}
	if n > 0 {
		n-- // no space after the last token
	}
	return n
}

// AppendText appends the canonical form of s (see String) to b. It
// implements encoding.TextAppender.
func (s Set) AppendText(b []byte) ([]byte, error) {
	return s.appendTo(b), nil
}

func (s Set) appendTo(b []byte) []byte {
	first := true
	for bit := range s.members() {
		if !first {
			b = append(b, ' ')
		}
		first = false
		b = append(b, tokens[bit]...)
	}
	return b
}

// String returns the canonical form of s: its scope tokens separated by
// single spaces, in catalogue order, read before write; "" for the empty
// set. Parse(s.String()) == s.
func (s Set) String() string {
	n := s.textLen()
	if n == 0 {
		return ""
	}
	var sb strings.Builder
	sb.Grow(n)
	first := true
	for bit := range s.members() {
		if !first {
			sb.WriteByte(' ')
		}
		first = false
		sb.WriteString(tokens[bit])
	}
	return sb.String()
}

// Strings returns the scope tokens of s in canonical order, or nil for the
// empty set.
func (s Set) Strings() []string {
	n := s.Len()
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for bit := range s.members() {
		out = append(out, tokens[bit])
	}
	return out
}

// Scopes returns the scopes of s in canonical order, or nil for the empty
// set.
func (s Set) Scopes() []Scope {
	n := s.Len()
	if n == 0 {
		return nil
	}
	out := make([]Scope, 0, n)
	for bit := range s.members() {
		out = append(out, scopeOf(bit))
	}
	return out
}

// MarshalText returns the canonical form of s (see String), so that JSON
// carries a set as one string such as "bucket:url:read bucket:url:write".
func (s Set) MarshalText() ([]byte, error) {
	return s.appendTo(make([]byte, 0, s.textLen())), nil
}

// UnmarshalText sets *s to Parse(string(b)); it is as strict as Parse. On
// error *s is left unchanged.
func (s *Set) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// RequiredPermission returns the permission a REST API request with the given
// HTTP method needs: Write for POST, PUT, PATCH and DELETE, Read for every
// other method. Methods are case-sensitive (RFC 9110 §9.1), so only the
// upper-case spellings need Write.
func RequiredPermission(method string) Permission {
	switch method {
	case "POST", "PUT", "PATCH", "DELETE":
		return Write
	}
	return Read
}
