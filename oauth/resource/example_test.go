package resource_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scopegate/scopegate/oauth/resource"
	"github.com/scopegate/scopegate/oauth/resource/resourcegin"
	"github.com/scopegate/scopegate/scopes"
)

// exampleScopegate stands in for scopegate's /oauth/introspect so the
// examples run alone: it knows one token, "sga_demo", a plugin's
// write-only messages token for website site-a (the source document's own
// example of a narrow scope), plus sessions read.
func exampleScopegate() (url string, stop func()) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := map[string]any{"active": false}
		if r.PostFormValue("token") == "sga_demo" {
			body = map[string]any{"active": true, "client_id": "helpdesk-plugin", "sub": "op-1", "website_id": "site-a",
				"scope": "website:conversation:sessions:read website:conversation:messages:write", "exp": time.Now().Add(time.Hour).Unix()}
		}
		_ = json.NewEncoder(w).Encode(body)
	}))
	return srv.URL + "/oauth/introspect", srv.Close
}

// try sends one request with the demo token and prints what came back.
func try(h http.Handler, method, path string) {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer sga_demo")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	line := fmt.Sprint(method, " ", path, " -> ", rec.Code)
	if a := rec.Header().Get("WWW-Authenticate"); a != "" {
		line += " " + a
	}
	fmt.Println(line)
}

// A net/http API: the scope's permission follows the method, and the token
// must be bound to the {website_id} in the path.
func ExampleIntrospector_Require() {
	introspectURL, stop := exampleScopegate()
	defer stop()
	rs := resource.New(resource.Config{IntrospectionURL: introspectURL, ClientID: "rest-api", ClientSecret: "rs-secret"})

	send := func(w http.ResponseWriter, r *http.Request) {
		tok, _ := resource.FromContext(r.Context())
		fmt.Println("message sent by", tok.ClientID, "on", tok.WebsiteID)
	}
	mux := http.NewServeMux()
	messages := rs.Require("website:conversation:messages")
	mux.Handle("POST /v1/website/{website_id}/conversation/{session_id}/message", messages(http.HandlerFunc(send)))
	mux.Handle("GET /v1/website/{website_id}/conversation/{session_id}/messages", messages(http.HandlerFunc(send)))

	try(mux, "POST", "/v1/website/site-a/conversation/s1/message")
	try(mux, "GET", "/v1/website/site-a/conversation/s1/messages")
	try(mux, "POST", "/v1/website/site-b/conversation/s1/message")
	// Output:
	// message sent by helpdesk-plugin on site-a
	// POST /v1/website/site-a/conversation/s1/message -> 200
	// GET /v1/website/site-a/conversation/s1/messages -> 403 Bearer realm="api", error="insufficient_scope", error_description="the token lacks website:conversation:messages:read", scope="website:conversation:messages:read"
	// POST /v1/website/site-b/conversation/s1/message -> 403 Bearer realm="api", error="insufficient_scope", error_description="the token is not for this website", scope="website:conversation:messages:write"
}

// The same rules on a Gin router, with an explicit permission for a POST
// route that only reads.
func Example_gin() {
	introspectURL, stop := exampleScopegate()
	defer stop()
	rs := resource.New(resource.Config{IntrospectionURL: introspectURL, ClientID: "rest-api", ClientSecret: "rs-secret"})

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.PATCH("/v1/website/:website_id/conversation/:session_id/state", resourcegin.Require(rs, "website:conversation:states"),
		func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.POST("/v1/website/:website_id/conversations/search", resourcegin.Require(rs, "website:conversation:sessions", resource.Permission(scopes.Read)),
		func(c *gin.Context) {
			tok, _ := resource.FromContext(c.Request.Context())
			c.String(http.StatusOK, tok.Subject)
		})

	try(r, "POST", "/v1/website/site-a/conversations/search")
	try(r, "PATCH", "/v1/website/site-a/conversation/s1/state")
	// Output:
	// POST /v1/website/site-a/conversations/search -> 200
	// PATCH /v1/website/site-a/conversation/s1/state -> 403 Bearer realm="api", error="insufficient_scope", error_description="the token lacks website:conversation:states:write", scope="website:conversation:states:write"
}

// A realtime stream passes on only the events the token's scopes allow:
// this write-only messages token gets session events but no message.
func ExampleFilterEvents() {
	introspectURL, stop := exampleScopegate()
	defer stop()
	rs := resource.New(resource.Config{IntrospectionURL: introspectURL, ClientID: "rest-api", ClientSecret: "rs-secret"})
	tok, err := rs.Introspect(context.Background(), "sga_demo")
	if err != nil {
		panic(err)
	}

	stream := make(chan resource.Event, 4)
	stream <- resource.Event{Name: "message:send", WebsiteID: "site-a"}
	stream <- resource.Event{Name: "session:update_availability", WebsiteID: "site-a"}
	stream <- resource.Event{Name: "message:received", WebsiteID: "site-a"}
	stream <- resource.Event{Name: "session:update_availability", WebsiteID: "site-b"}
	close(stream)
	for ev := range resource.FilterEvents(context.Background(), tok, stream) {
		fmt.Println(ev.Name, ev.WebsiteID)
	}
	// Output:
	// session:update_availability site-a
}
