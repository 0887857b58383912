package web

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// TestAuditTrailSurvivesIssuance is issue 8's audit test: an admin's
// revoke.client event is still listed, through the store and the admin
// API, after 200,000 tokens have been issued. The tokens go into the real
// store as the token endpoint stores them (the client's client-credentials
// grant, IssueTokens, and the token.issued event the issuance path used to
// append for each), from many goroutines; the full HTTP path is too slow
// for 200k on a shared machine (about 2 minutes). Before the audit split every
// issuance appended to one stream capped at ~100k entries, which pushed the
// revocation out.
func TestAuditTrailSurvivesIssuance(t *testing.T) {
	const issued = 200_000
	e := newAdminTestEnv(t)
	ctx := tbCtx(t)
	id, secret := e.createPlugin(t, "plugin:subscription:bill:read")
	victim, _ := e.createPlugin(t, "plugin:subscription:bill:read")
	e.ccToken(t, id, secret) // one through the real endpoint
	e.must(t, http.StatusOK, http.MethodPost, "/admin/v1/revoke", map[string]any{"client_id": victim})

	start := time.Now()
	now := e.Clock.Now()
	plugin := scopes.MustParse("plugin:subscription:bill:read")
	_, g, err := e.Store.IssueClientCredentials(ctx, storage.Grant{ID: token.NewID(), ClientID: id,
		Scopes: plugin, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
		storage.Token{Scopes: plugin, IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// Tokens are stored 500 per IssueTokens call (one script, one grant);
	// each gets the token.issued event the issuance path appended.
	const batch = 500
	var n atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range 16 {
		wg.Go(func() {
			for n.Add(batch) <= issued {
				toks := make([]storage.NewToken, batch)
				for i := range toks {
					toks[i] = storage.NewToken{Value: token.New(token.Access, g.ID), Token: storage.Token{
						Kind: token.Access, GrantID: g.ID, ClientID: id, Scopes: g.Scopes, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}}
				}
				err := e.Store.IssueTokens(ctx, toks...)
				for i := 0; i < batch && err == nil; i++ {
					err = e.Store.AppendEvent(ctx, storage.Event{Kind: storage.KindTokenIssued, Actor: "client:" + id, ClientID: id, GrantID: g.ID,
						Detail: map[string]string{"grant_type": "client_credentials", "scope": g.Scopes.String()}})
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatalf("issuing: %v", err)
	}
	t.Logf("issued %d tokens in %v", issued, time.Since(start).Round(time.Millisecond))

	evs, err := e.Store.ListEvents(ctx, storage.EventFilter{Kind: storage.KindRevokeClient})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].ClientID != victim {
		t.Fatalf("ListEvents(revoke.client) = %+v, want the revocation of %s", evs, victim)
	}
	var page struct {
		Events []storage.Event `json:"events"`
	}
	r := e.api(t, http.MethodGet, "/admin/v1/audit?kind=revoke.client&client_id="+victim, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /admin/v1/audit: status %d: %s", r.Status, r.Body)
	}
	r.Decode(t, &page)
	if len(page.Events) != 1 || page.Events[0].Kind != storage.KindRevokeClient {
		t.Fatalf("admin API audit = %s, want the revoke.client event", r.Body)
	}
	mem := e.RDB.MemoryUsage(tbCtx(t), "sg:audit").Val()
	t.Logf("admin audit stream after %d issuances: %d events, %d bytes", issued, e.RDB.XLen(tbCtx(t), "sg:audit").Val(), mem)
}
