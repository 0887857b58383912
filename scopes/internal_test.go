package scopes

import (
	"strings"
	"testing"
	"unsafe"
)

func TestMaxLen(t *testing.T) {
	if got := len(All().String()); got != canonicalAllLen {
		t.Fatalf("len(All().String()) = %d; update canonicalAllLen (%d)", got, canonicalAllLen)
	}
	if MaxLen != canonicalAllLen+256 {
		t.Errorf("MaxLen = %d, want %d", MaxLen, canonicalAllLen+256)
	}
	// Exactly MaxLen bytes is not "too long" (it fails for another reason).
	_, err := Parse(strings.Repeat("a", MaxLen))
	if e, ok := err.(*Error); !ok || e.Kind != ErrUnknownScope {
		t.Errorf("Parse of MaxLen bytes: %v, want ErrUnknownScope", err)
	}
}

func TestTables(t *testing.T) {
	if len(byName) != numDefs {
		t.Fatalf("byName has %d entries, catalogue %d", len(byName), numDefs)
	}
	if numBits > 128 {
		t.Fatalf("%d bits do not fit in Set", numBits)
	}
	for i, d := range catalogue {
		if byName[d.Name] != i {
			t.Errorf("byName[%q] = %d, want %d", d.Name, byName[d.Name], i)
		}
		for p, want := range map[Permission]string{Read: d.Name + ":read", Write: d.Name + ":write"} {
			bit, ok := bitOf(d.Name, p)
			if !ok || tokens[bit] != want || scopeOf(bit) != (Scope{d.Name, p}) {
				t.Errorf("bit of %s: %d, %v; token %q", want, bit, ok, tokens[bit])
			}
			var s Set
			s.set(bit)
			if !s.has(bit) || s.Len() != 1 || s.textLen() != len(want) {
				t.Errorf("set/has/Len/textLen wrong for bit %d", bit)
			}
		}
	}
	// No bit beyond the catalogue is ever set.
	if allSet.b[1]>>(numBits-64) != 0 {
		t.Errorf("All() has bits beyond %d: %x", numBits, allSet.b)
	}
	if allSet.textLen() != len(allSet.String()) {
		t.Errorf("textLen() = %d, len(String()) = %d", allSet.textLen(), len(allSet.String()))
	}
}

// TestParsedNamesAreInterned checks that a parsed Scope does not keep the
// caller's input alive: its Name is the catalogue's own string.
func TestParsedNamesAreInterned(t *testing.T) {
	in := []byte("website:people:data:write")
	sc, err := ParseScope(string(in))
	if err != nil {
		t.Fatal(err)
	}
	want := catalogue[byName["website:people:data"]].Name
	if sc.Name != want || unsafe.StringData(sc.Name) != unsafe.StringData(want) {
		t.Error("ParseScope returned a name that is not the catalogue's string")
	}
	for _, sc := range MustParse(string(in)).Scopes() {
		if unsafe.StringData(sc.Name) != unsafe.StringData(want) {
			t.Error("Scopes returned a name that is not the catalogue's string")
		}
	}
}

// TestEverySentence checks the consent wording: every scope has a read and a
// write sentence, non-empty, different from each other and from every other
// scope's, and the description of the source table is not reused for
// either (it often names both permissions at once, "Read and update
// conversations").
func TestEverySentence(t *testing.T) {
	seen := map[string]string{}
	for _, d := range Catalogue() {
		r, w := d.Sentence(Read), d.Sentence(Write)
		if r == "" || w == "" {
			t.Errorf("%s: read sentence %q, write sentence %q: both must be set", d.Name, r, w)
			continue
		}
		if r == w {
			t.Errorf("%s: read and write sentences are the same: %q", d.Name, r)
		}
		for _, s := range []string{r, w} {
			if s == d.Description {
				t.Errorf("%s: sentence %q is the source description, which may name both permissions", d.Name, s)
			}
			if strings.HasSuffix(s, ".") || strings.TrimSpace(s) != s || strings.ToUpper(s[:1]) != s[:1] {
				t.Errorf("%s: sentence %q: want a capitalised phrase without final period or spaces", d.Name, s)
			}
			if other, dup := seen[s]; dup {
				t.Errorf("%s: sentence %q also used by %s", d.Name, s, other)
			}
			seen[s] = d.Name
		}
		if d.Sentence(0) != "" {
			t.Errorf("%s: Sentence(0) = %q, want empty", d.Name, d.Sentence(0))
		}
	}
}
