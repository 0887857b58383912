package main

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/scopegate/scopegate/storage"
)

func TestCLIOperators(t *testing.T) {
	c := newCLIEnv(t)
	// One website exists already; the other is created with its ID as name.
	c.json(t, "", "clients", "list") // server up
	if err := c.store.PutWebsite(context.Background(), storage.Website{ID: "site-old", Name: "Old Shop"}); err != nil {
		t.Fatal(err)
	}
	const pw = "a long enough password"
	m := c.json(t, pw+"\n", "operators", "create", "--email", "Ops@Shop.example", "--password-stdin", "--website", "site-old", "--website", "site-new")
	if !strings.HasPrefix(m["operator_id"].(string), "op_") || m["email"] != "ops@shop.example" {
		t.Fatalf("operators create --json = %v", m)
	}
	if got := toStrings(m["websites_created"]); strings.Join(got, ",") != "site-new" {
		t.Errorf("websites_created = %v", got)
	}
	ctx := context.Background()
	if w, err := c.store.GetWebsite(ctx, "site-old"); err != nil || w.Name != "Old Shop" {
		t.Errorf("existing website changed: %+v %v", w, err)
	}
	if w, err := c.store.GetWebsite(ctx, "site-new"); err != nil || w.Name != "site-new" {
		t.Errorf("new website: %+v %v", w, err)
	}
	op, err := c.store.GetOperatorByEmail(ctx, "ops@shop.example")
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword(op.PasswordHash, []byte(pw)) != nil || strings.Join(op.Websites, ",") != "site-old,site-new" {
		t.Errorf("operator = %+v", op)
	}
	c.fails(t, c.env(), 1, pw+"\n", []string{"operators", "create", "--email", "ops@shop.example", "--password-stdin", "--website", "site-old"},
		"an operator with this e-mail already exists")
	c.fails(t, c.env(), 1, "short\n", []string{"operators", "create", "--email", "b@shop.example", "--password-stdin", "--website", "site-old"},
		"password: must be at least 12 characters")
	c.fails(t, c.env(), 2, "", []string{"operators", "create", "--email", "b@shop.example", "--password-stdin", "--website", "site-old"},
		"--password-stdin: standard input is empty")
	if out := c.ok(t, "another long password\n", "operators", "create", "--email", "c@shop.example", "--password-stdin", "--website", "site-new"); !strings.Contains(out, "created for websites site-new") {
		t.Errorf("operators create text:\n%s", out)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
