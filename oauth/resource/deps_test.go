package resource_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestImports: the kit and its Gin adapter import, of this module, only
// scopes and the leaf oauth/oautherr (which imports the standard library
// only), so a resource server never drags the authorization server in.
func TestImports(t *testing.T) {
	const mod = "github.com/scopegate/scopegate/"
	allowed := map[string]bool{mod + "scopes": true, mod + "oauth/oautherr": true, mod + "oauth/resource": true}
	for _, glob := range []string{"*.go", "resourcegin/*.go"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, im := range af.Imports {
				if p := strings.Trim(im.Path.Value, `"`); strings.HasPrefix(p, mod) && !allowed[p] {
					t.Errorf("%s imports %s", f, p)
				}
			}
		}
	}
}
