package web

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// BenchmarkAdminRevokeClient100k measures the kill switch end to end: POST
// /admin/v1/revoke {client_id} for a plugin holding 100,000 live tokens
// (50,000 website grants of an access and a refresh token each), on a real
// redis-server. Only the revocation call is timed.
func BenchmarkAdminRevokeClient100k(b *testing.B) {
	const grants, workers = 50000, 32
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newAdminTestEnv(b)
		id, _ := e.createPlugin(b)
		now := e.Clock.Now()
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := b.Context()
				for j := w; j < grants; j += workers {
					g := storage.Grant{ID: token.NewID(), ClientID: id, WebsiteID: "site-bench", OperatorID: "op-bench",
						Scopes: scopes.MustParse("website:people:data:read"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
					if err := e.Store.CreateGrant(ctx, g); err != nil {
						errs <- err
						return
					}
					rec := storage.Token{GrantID: g.ID, ClientID: id, Scopes: g.Scopes, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
					ra, rr := rec, rec
					ra.Kind, rr.Kind = token.Access, token.Refresh
					if err := e.Store.IssueTokens(ctx, storage.NewToken{Value: token.New(token.Access, g.ID), Token: ra},
						storage.NewToken{Value: token.New(token.Refresh, g.ID), Token: rr}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		b.StartTimer()
		r := e.api(b, http.MethodPost, "/admin/v1/revoke", map[string]any{"client_id": id})
		b.StopTimer()
		var got storage.Revocation
		r.Decode(b, &got)
		if r.Status != 200 || got.Tokens != 2*grants || got.Grants != grants {
			b.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
	}
}
