package scopes_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/scopes"
)

func FuzzParse(f *testing.F) {
	for _, tc := range validCases {
		f.Add(tc.in)
	}
	for _, tc := range errorCases {
		f.Add(tc.in)
	}
	f.Add(scopes.WebsiteScopes().String())
	f.Add("website:people:data:read website:people:data")
	f.Fuzz(func(t *testing.T, in string) {
		set, err := scopes.Parse(in)
		if err != nil {
			var e *scopes.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T is not *scopes.Error", in, err)
			}
			if e.Kind < scopes.ErrUnknownScope || e.Kind > scopes.ErrTooLong || !errors.Is(err, e.Kind) {
				t.Fatalf("Parse(%q): bad kind %v", in, e.Kind)
			}
			if set != (scopes.Set{}) {
				t.Fatalf("Parse(%q) returned %v with its error", in, set)
			}
			if e.Kind == scopes.ErrTooLong {
				if len(in) <= scopes.MaxLen {
					t.Fatalf("ErrTooLong for %d bytes", len(in))
				}
			} else if e.Offset < 0 || e.Offset > len(in) || !strings.HasPrefix(in[e.Offset:], e.Token) {
				t.Fatalf("Parse(%q): token %q not at offset %d", in, e.Token, e.Offset)
			}
			checkErrorText(t, err)
			return
		}
		canon := set.String()
		if len(canon) > scopes.MaxLen {
			t.Fatalf("canonical form of %q is %d bytes, over MaxLen", in, len(canon))
		}
		again, err := scopes.Parse(canon)
		if err != nil || again != set || again.String() != canon {
			t.Fatalf("canonical form %q of %q does not re-parse to the same set: %v, %v", canon, in, again, err)
		}
		// Accepted input is a permutation of the canonical tokens.
		if in != "" && set.Len() != strings.Count(in, " ")+1 {
			t.Fatalf("Parse(%q) has %d scopes", in, set.Len())
		}
		if len(in) != len(canon) {
			t.Fatalf("accepted %q is not the same length as its canonical form %q", in, canon)
		}
	})
}
