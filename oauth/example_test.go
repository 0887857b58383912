package oauth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/storage"
)

// Building a Provider over Redis and serving its endpoints. go-redis
// connects lazily, so nothing here needs a running Redis until the first
// request.
func ExampleNew() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	p := oauth.New(oauth.Config{Issuer: "https://auth.example.com"}, storage.NewRedis(rdb, storage.RedisOptions{}))

	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", p.Token)
	mux.HandleFunc("POST /oauth/introspect", p.Introspect)
	mux.HandleFunc("POST /oauth/revoke", p.Revoke)

	md := p.Metadata()
	fmt.Println(md.TokenEndpoint)
	fmt.Println(md.CodeChallengeMethodsSupported, md.GrantTypesSupported)
	fmt.Println(len(md.ScopesSupported), "scopes")
	// Output:
	// https://auth.example.com/oauth/token
	// [S256] [authorization_code client_credentials refresh_token]
	// 70 scopes
}

// Every protocol error goes out through WriteError: RFC 6749 §5.2 JSON,
// the right status, Cache-Control: no-store.
func ExampleWriteError() {
	rec := httptest.NewRecorder()
	oauth.WriteError(rec, oauth.ErrInvalidScope.WithDescription("scope exceeds the client's approved maximum: %s", "website:settings:write"))
	fmt.Println(rec.Code, rec.Header().Get("Cache-Control"))
	fmt.Print(rec.Body.String())
	// Output:
	// 400 no-store
	// {"error":"invalid_scope","error_description":"scope exceeds the client's approved maximum: website:settings:write"}
}
