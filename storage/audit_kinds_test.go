package storage_test

import (
	"os"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/storage"
)

// TestReadmeListsEveryAuditKind keeps README.md's list of audit kinds in
// step with storage's constants.
func TestReadmeListsEveryAuditKind(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, k := range storage.AuditKinds() {
		if !strings.Contains(readme, "`"+k+"`") {
			t.Errorf("README.md does not list the audit kind %s", k)
		}
	}
	if strings.Contains(readme, "`"+storage.KindTokenIssued+"`") {
		t.Errorf("README.md lists %s as an audit kind; issuance is counted in metrics", storage.KindTokenIssued)
	}
}
