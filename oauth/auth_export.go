package oauth

import (
	"context"
	"net/http"

	"github.com/scopegate/scopegate/storage"
)

// AuthenticateClient authenticates the client of a request outside the
// token endpoint (such as the plugin API): client_secret_basic, or
// client_secret_post when r's form is already parsed (RFC 6749 §2.3.1). It
// applies the same rules as the token endpoint: unknown, suspended or
// wrongly authenticated clients are ErrInvalidClient (write it with
// WriteError: 401 with WWW-Authenticate); a storage outage is an error that
// AsError maps to temporarily_unavailable.
func (p *Provider) AuthenticateClient(ctx context.Context, r *http.Request) (storage.Client, error) {
	id, secret, _, err := ClientCredentials(r)
	if err != nil {
		return storage.Client{}, err
	}
	return p.authenticate(ctx, id, secret)
}
