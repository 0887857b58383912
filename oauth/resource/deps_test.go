package resource_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestImports: the kit and its Gin adapter import, of this module, only
// scopes and the leaf oauth/oautherr, which imports the standard library
// only; so a resource server never drags the authorization server in.
func TestImports(t *testing.T) {
	const mod = "github.com/scopegate/scopegate/"
	kit := func(p string) bool {
		return p == mod+"scopes" || p == mod+"oauth/oautherr" || p == mod+"oauth/resource"
	}
	std := func(p string) bool { return !strings.Contains(strings.SplitN(p, "/", 2)[0], ".") }
	for glob, allowed := range map[string]func(string) bool{
		"*.go":             func(p string) bool { return !strings.HasPrefix(p, mod) || kit(p) },
		"resourcegin/*.go": func(p string) bool { return !strings.HasPrefix(p, mod) || kit(p) },
		"../oautherr/*.go": std,
	} {
		files, _ := filepath.Glob(glob)
		if len(files) == 0 {
			t.Fatalf("no files match %s", glob)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range af.Imports {
				if p := strings.Trim(im.Path.Value, `"`); !allowed(p) {
					t.Errorf("%s imports %s", f, p)
				}
			}
		}
	}
}
