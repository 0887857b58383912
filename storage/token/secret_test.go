package token

import (
	"regexp"
	"strings"
	"testing"
)

func TestNewRandom(t *testing.T) {
	secretPatternRE := regexp.MustCompile(SecretPattern)
	maxBits := 0
	for _, s := range draw(t, 1000, NewRandom, "NewRandom()", 43, base62RE, "43 base62 characters") {
		n := decode(t, s).BitLen()
		if n > 256 {
			t.Fatalf("NewRandom() = %q holds %d bits, want at most 256", s, n)
		}
		maxBits = max(maxBits, n)
		if patternRE.MatchString(s) || secretPatternRE.MatchString(s) {
			t.Fatalf("NewRandom() = %q looks like a token or a client secret to a scanner", s)
		}
	}
	// 1000 draws of 256 bits: the largest has fewer than 250 bits with
	// probability 2^-6000. Fewer means part of the 32 bytes is unused.
	if maxBits < 250 {
		t.Errorf("largest of 1000 NewRandom values has %d bits, want about 256", maxBits)
	}
}

func TestEqual(t *testing.T) {
	a := NewRandom()
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"same", a, strings.Clone(a), true},
		{"one byte", "x", "x", true},
		{"different", a, NewRandom(), false},
		{"last byte differs", a, a[:42] + string(a[42]^1), false},
		{"prefix", a, a[:42], false},
		{"longer", a, a + "0", false},
		{"case", "abc", "ABC", false},
		{"both empty", "", "", false},
		{"first empty", "", a, false},
		{"second empty", a, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("Equal(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if got := Equal(tt.b, tt.a); got != tt.want {
				t.Errorf("Equal(%q, %q) = %v, want %v (not symmetric)", tt.b, tt.a, got, tt.want)
			}
		})
	}
}
