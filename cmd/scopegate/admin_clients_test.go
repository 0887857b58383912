package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/web/adminapi"
)

func TestCLIClients(t *testing.T) {
	c := newCLIEnv(t)
	m := c.json(t, "", "clients", "create", "--name", "Helpdesk", "--redirect-uri", "https://helpdesk.example/cb",
		"--approve", "website:people:data:write", "--approve", "plugin:subscription:bill:write")
	id, secret := m["client_id"].(string), m["client_secret"].(string)
	if !strings.HasPrefix(id, "plg_") || !strings.HasPrefix(secret, "sgs_") || m["review_id"] == "" {
		t.Fatalf("clients create --json = %v", m)
	}
	// The secret works for the approved plugin scope; beyond it, invalid_scope.
	tok, err := c.ccConfig(id, secret, "plugin:subscription:bill:write").Token(context.Background())
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	_, err = c.ccConfig(id, secret, "bucket:url:write").Token(context.Background())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_scope" {
		t.Errorf("unapproved scope: %v", err)
	}

	pub := c.json(t, "", "clients", "create", "--name", "SPA", "--public", "--redirect-uri", "http://127.0.0.1:3000/cb", "--id", "spa-1")
	if _, has := pub["client_secret"]; has || pub["client_id"] != "spa-1" || pub["type"] != "public" {
		t.Errorf("public client --json = %v", pub)
	}
	rs := c.json(t, "", "clients", "create", "--name", "REST API", "--role", "resource-server")
	rsID, rsSecret := rs["client_id"].(string), rs["client_secret"].(string)
	if !strings.HasPrefix(rsID, "rs_") || rs["role"] != "resource-server" {
		t.Errorf("resource server --json = %v", rs)
	}
	if !active(c.introspect(t, rsID, rsSecret, tok.AccessToken)) {
		t.Fatal("token inactive")
	}

	// Text output: a table with every client; show without the secret.
	list := c.ok(t, "", "clients", "list")
	if !strings.HasPrefix(list, "CLIENT_ID") || !strings.Contains(list, id) || !strings.Contains(list, "spa-1") || !strings.Contains(list, rsID) {
		t.Errorf("clients list:\n%s", list)
	}
	show := c.ok(t, "", "clients", "show", id)
	if !strings.Contains(show, "website:people:data:write plugin:subscription:bill:write") || strings.Contains(show, secret) {
		t.Errorf("clients show:\n%s", show)
	}
	var all adminapi.ClientList
	if c.typed(t, &all, "", "clients", "list"); len(all.Clients) != 3 {
		t.Errorf("clients list --json: %d clients", len(all.Clients))
	}

	// Suspend: tokens inactive, token requests refused; resume undoes it.
	if out := c.ok(t, "", "clients", "suspend", id); out != "client "+id+" is suspended\n" {
		t.Errorf("suspend output %q", out)
	}
	if active(c.introspect(t, rsID, rsSecret, tok.AccessToken)) {
		t.Error("suspended client's token active")
	}
	if _, err := c.ccConfig(id, secret).Token(context.Background()); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Errorf("suspended client's token request: %v", err)
	}
	if m := c.json(t, "", "clients", "resume", id); m["status"] != "active" {
		t.Errorf("resume --json = %v", m)
	}
	if !active(c.introspect(t, rsID, rsSecret, tok.AccessToken)) {
		t.Error("token inactive after resume")
	}

	// Rotate with no grace: the old secret stops at once.
	var rot adminapi.Rotated
	c.typed(t, &rot, "", "clients", "rotate-secret", id, "--grace", "0s")
	fresh := rot.ClientSecret
	if fresh == secret || !strings.HasPrefix(fresh, "sgs_") || rot.ClientID != id || rot.Client.ClientID != id {
		t.Fatalf("rotate-secret --json = %+v", rot)
	}
	if _, err := c.ccConfig(id, secret).Token(context.Background()); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Errorf("old secret after rotation: %v", err)
	}
	if _, err := c.ccConfig(id, fresh).Token(context.Background()); err != nil {
		t.Errorf("new secret: %v", err)
	}
	// Default grace: both work.
	c.json(t, "", "clients", "rotate-secret", "--grace", "1h", id)
	if _, err := c.ccConfig(id, fresh).Token(context.Background()); err != nil {
		t.Errorf("previous secret during the grace period: %v", err)
	}

	// Lower and update.
	if out := c.ok(t, "", "clients", "lower", id, "--scope", "plugin:subscription:bill:write"); out != "client "+id+" approved maximum: website:people:data:write\n" {
		t.Errorf("lower output %q", out)
	}
	if m := c.json(t, "", "clients", "update", "spa-1", "--name", "SPA 2", "--redirect-uri", "http://127.0.0.1:4000/cb"); m["name"] != "SPA 2" {
		t.Errorf("update --json = %v", m)
	}

	// Delete revokes everything.
	var del adminapi.Deleted
	if c.typed(t, &del, "", "clients", "delete", id); !del.Deleted || del.ClientID != id || del.Grants < 1 || del.Tokens < 1 {
		t.Errorf("delete --json = %+v", del)
	}
	c.fails(t, c.env(), 1, "", []string{"clients", "show", id}, "scopegate clients show: client not found")
}
