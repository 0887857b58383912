package scopes_test

import (
	mrand "math/rand"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/quick"

	"github.com/scopegate/scopegate/scopes"
)

// randSet returns a random set in which each (scope, permission) is present
// with probability p.
func randSet(r *rand.Rand, p float64) scopes.Set {
	var ss []scopes.Scope
	for _, d := range scopes.Catalogue() {
		for _, perm := range []scopes.Permission{scopes.Read, scopes.Write} {
			if r.Float64() < p {
				ss = append(ss, scopes.Scope{Name: d.Name, Perm: perm})
			}
		}
	}
	return scopes.Of(ss...)
}

// randSets yields n random sets of varied density from a fixed seed, so a
// failure reproduces.
func randSets(n int) []scopes.Set {
	r := rand.New(rand.NewPCG(20240601, 35))
	densities := []float64{0, 0.02, 0.1, 0.5, 0.9, 1}
	out := make([]scopes.Set, n)
	for i := range out {
		out[i] = randSet(r, densities[i%len(densities)])
	}
	return out
}

func TestRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, x := range randSets(3000) {
		canon := x.String()
		got, err := scopes.Parse(canon)
		if err != nil || got != x {
			t.Fatalf("Parse(%q) = %v, %v; want %v", canon, got, err, x)
		}
		if len(canon) > scopes.MaxLen {
			t.Fatalf("canonical form longer than MaxLen: %d", len(canon))
		}
		// Any order of the tokens parses to the same set, and formatting
		// gives back the canonical form (idempotent).
		toks := x.Strings()
		r.Shuffle(len(toks), func(i, j int) { toks[i], toks[j] = toks[j], toks[i] })
		shuffled, err := scopes.Parse(strings.Join(toks, " "))
		if err != nil || shuffled != x {
			t.Fatalf("Parse(shuffled %q) = %v, %v; want %v", toks, shuffled, err, x)
		}
		if s := shuffled.String(); s != canon {
			t.Fatalf("String() of shuffled = %q, want %q", s, canon)
		}
		if again := scopes.MustParse(scopes.MustParse(canon).String()).String(); again != canon {
			t.Fatalf("format(parse(format(parse(s)))) = %q, want %q", again, canon)
		}
		// The views agree with each other.
		strs, scs := x.Strings(), x.Scopes()
		if len(strs) != x.Len() || len(scs) != x.Len() || strings.Join(strs, " ") != canon {
			t.Fatalf("Len/Strings/Scopes disagree for %q", canon)
		}
		if x.IsEmpty() != (x.Len() == 0) || x.IsEmpty() != (x == scopes.Set{}) {
			t.Fatalf("IsEmpty wrong for %q", canon)
		}
		for i, sc := range scs {
			if sc.String() != strs[i] || !x.Contains(sc) || !x.Has(sc.Name, sc.Perm) {
				t.Fatalf("scope %v of %q not consistent", sc, canon)
			}
			if scopes.Of(sc) != scopes.MustParse(strs[i]) {
				t.Fatalf("Of(%v) != MustParse(%q)", sc, strs[i])
			}
		}
		if scopes.Of(scs...) != x {
			t.Fatalf("Of(x.Scopes()...) != x for %q", canon)
		}
		// Canonical order: catalogue order, read before write.
		all := scopes.All().Strings()
		if !slices.IsSortedFunc(strs, func(a, b string) int {
			return slices.Index(all, a) - slices.Index(all, b)
		}) {
			t.Fatalf("%q is not in catalogue order", canon)
		}
		text, _ := x.MarshalText()
		var back scopes.Set
		if string(text) != canon || back.UnmarshalText(text) != nil || back != x {
			t.Fatalf("MarshalText/UnmarshalText round trip failed for %q", canon)
		}
	}
}

func TestSetLaws(t *testing.T) {
	sets := randSets(60)
	sets = append(sets, scopes.Set{}, scopes.All(), scopes.WebsiteScopes(), scopes.PluginScopes())
	empty := scopes.Set{}
	for _, a := range sets {
		// Identities.
		if a.Union(empty) != a || a.Intersect(scopes.All()) != a || a.Intersect(empty) != empty ||
			a.Union(a) != a || a.Intersect(a) != a || a.Difference(a) != empty ||
			a.Difference(empty) != a || !empty.SubsetOf(a) || !a.SubsetOf(a) || !a.SubsetOf(scopes.All()) {
			t.Fatalf("identity law fails for %v", a)
		}
		for _, b := range sets {
			u, i := a.Union(b), a.Intersect(b)
			if u != b.Union(a) || i != b.Intersect(a) {
				t.Fatalf("commutativity fails for %v, %v", a, b)
			}
			if !a.SubsetOf(u) || !i.SubsetOf(a) || !i.SubsetOf(b) {
				t.Fatalf("a ⊆ a∪b or a∩b ⊆ a fails for %v, %v", a, b)
			}
			if !a.Difference(b).Intersect(b).IsEmpty() {
				t.Fatalf("(a\\b) ∩ b ≠ ∅ for %v, %v", a, b)
			}
			if a.Difference(b).Union(i) != a {
				t.Fatalf("(a\\b) ∪ (a∩b) ≠ a for %v, %v", a, b)
			}
			if a.SubsetOf(b) && b.SubsetOf(a) && a != b {
				t.Fatalf("antisymmetry fails for %v, %v", a, b)
			}
			if a.SubsetOf(b) != (a.Difference(b) == empty) || a.SubsetOf(b) != (i == a) || a.SubsetOf(b) != (u == b) {
				t.Fatalf("SubsetOf disagrees with the algebra for %v, %v", a, b)
			}
			if u.Len()+i.Len() != a.Len()+b.Len() {
				t.Fatalf("|a∪b| + |a∩b| ≠ |a| + |b| for %v, %v", a, b)
			}
			for _, c := range sets[:20] {
				if a.Union(b).Union(c) != a.Union(b.Union(c)) ||
					a.Intersect(b).Intersect(c) != a.Intersect(b.Intersect(c)) {
					t.Fatalf("associativity fails")
				}
				if a.Intersect(b.Union(c)) != a.Intersect(b).Union(a.Intersect(c)) ||
					a.Union(b.Intersect(c)) != a.Union(b).Intersect(a.Union(c)) {
					t.Fatalf("distributivity fails")
				}
				// De Morgan, with Difference as relative complement.
				if a.Difference(b.Union(c)) != a.Difference(b).Intersect(a.Difference(c)) ||
					a.Difference(b.Intersect(c)) != a.Difference(b).Union(a.Difference(c)) {
					t.Fatalf("De Morgan fails")
				}
				if a.SubsetOf(b) && b.SubsetOf(c) && !a.SubsetOf(c) {
					t.Fatalf("transitivity fails")
				}
			}
		}
	}
}

func TestQuickRoundTrip(t *testing.T) {
	cat := scopes.Catalogue()
	// f builds a set from two random words (any bits beyond the catalogue
	// are ignored) and checks Parse(String(x)) == x.
	f := func(lo, hi uint64) bool {
		var ss []scopes.Scope
		for bit := range 2 * len(cat) {
			w := lo
			if bit >= 64 {
				w = hi
			}
			if w&(1<<(bit%64)) != 0 {
				ss = append(ss, scopes.Scope{Name: cat[bit/2].Name, Perm: scopes.Permission(bit%2 + 1)})
			}
		}
		x := scopes.Of(ss...)
		got, err := scopes.Parse(x.String())
		return err == nil && got == x && x.Len() == len(ss)
	}
	cfg := &quick.Config{MaxCount: 2000, Rand: mrand.New(mrand.NewSource(35))}
	if err := quick.Check(f, cfg); err != nil {
		t.Error(err)
	}
}
