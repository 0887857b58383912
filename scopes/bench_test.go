package scopes_test

import (
	"testing"

	"github.com/scopegate/scopegate/scopes"
)

func BenchmarkParseFull(b *testing.B) {
	in := scopes.All().String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := scopes.Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSubset10(b *testing.B) {
	ten, all := tenScopes(), scopes.All()
	if ten.Len() != 10 {
		b.Fatalf("tenScopes has %d scopes", ten.Len())
	}
	b.ReportAllocs()
	for b.Loop() {
		if !ten.SubsetOf(all) {
			b.Fatal("not a subset")
		}
	}
}

func BenchmarkContains(b *testing.B) {
	ten := tenScopes()
	sc := scopes.Scope{Name: "website:conversation:messages", Perm: scopes.Write}
	b.ReportAllocs()
	for b.Loop() {
		if !ten.Contains(sc) {
			b.Fatal("not contained")
		}
	}
}

func BenchmarkString(b *testing.B) {
	all := scopes.All()
	b.ReportAllocs()
	for b.Loop() {
		_ = all.String()
	}
}
