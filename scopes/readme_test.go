package scopes_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/scopes"
)

// TestReadmeScopeTable keeps the README's table of permission sentences
// identical to the catalogue: one row per scope, in catalogue order.
func TestReadmeScopeTable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	want.WriteString("| scope | `:read` lets a plugin… | `:write` lets a plugin… |\n|---|---|---|\n")
	for _, d := range scopes.Catalogue() {
		want.WriteString("| `" + d.Name + "` | " + d.Sentence(scopes.Read) + " | " + d.Sentence(scopes.Write) + " |\n")
	}
	if !strings.Contains(string(raw), want.String()) {
		t.Errorf("README lacks the scope table, or it differs from the catalogue; it should read:\n%s", want.String())
	}
}
