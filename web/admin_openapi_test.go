package web

import (
	"bytes"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"
)

type openAPIDocument struct {
	OpenAPI string                    `yaml:"openapi"`
	Paths   map[string]map[string]any `yaml:"paths"`
}

var ginParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// documentedRoutes returns "METHOD /path/{param}" for every operation.
func documentedRoutes(t *testing.T, doc []byte) map[string]bool {
	t.Helper()
	var d openAPIDocument
	if err := yaml.Unmarshal(doc, &d); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", d.OpenAPI)
	}
	out := map[string]bool{}
	for path, item := range d.Paths {
		for method, v := range item {
			if method == "parameters" {
				continue
			}
			op, ok := v.(map[string]any)
			if !ok {
				t.Errorf("%s %s is not an operation object", method, path)
				continue
			}
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s has no responses", method, path)
			}
			out[strings.ToUpper(method)+" "+path] = true
		}
	}
	return out
}

// registeredRoutes returns the engine's /admin/v1 and /plugin/v1 routes in
// OpenAPI spelling.
func registeredRoutes(e *gin.Engine) map[string]bool {
	out := map[string]bool{}
	for _, r := range e.Routes() {
		if strings.HasPrefix(r.Path, "/admin/v1/") || strings.HasPrefix(r.Path, "/plugin/v1/") {
			out[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
		}
	}
	return out
}

func diff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newAdminTestEnv(t)
	r := e.raw(t, http.MethodGet, "/admin/v1/openapi.yaml", "", nil, nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/yaml") {
		t.Fatalf("GET openapi.yaml: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	if !bytes.Equal(r.Body, openAPIDoc) {
		t.Fatal("served document differs from the embedded one")
	}
	doc := documentedRoutes(t, r.Body)
	routes := registeredRoutes(e.Web.public)
	if len(routes) < 20 {
		t.Fatalf("only %d routes registered: %v", len(routes), routes)
	}
	if missing := diff(routes, doc); len(missing) > 0 {
		t.Errorf("registered but not documented: %v", missing)
	}
	if extra := diff(doc, routes); len(extra) > 0 {
		t.Errorf("documented but not registered: %v", extra)
	}

	// With a separate admin listener the admin engine serves every
	// /admin/v1 route and the public one only the plugin API.
	sep := New(Options{Provider: e.Provider, Store: e.Store, SeparateAdmin: true})
	adminRoutes, publicRoutes := registeredRoutes(sep.admin), registeredRoutes(sep.public)
	for k := range doc {
		isPlugin := strings.Contains(k, " /plugin/v1/")
		if adminRoutes[k] == isPlugin {
			t.Errorf("separate admin engine: %s registered = %v", k, adminRoutes[k])
		}
		if publicRoutes[k] != isPlugin {
			t.Errorf("separate public engine: %s registered = %v", k, publicRoutes[k])
		}
	}
	for _, rt := range sep.public.Routes() {
		if strings.HasPrefix(rt.Path, "/admin") {
			t.Errorf("separate public engine serves %s %s", rt.Method, rt.Path)
		}
	}
}

// TestOpenAPIRefsResolve: every $ref points at something in the document.
func TestOpenAPIRefsResolve(t *testing.T) {
	var root map[string]any
	if err := yaml.Unmarshal(openAPIDoc, &root); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	n := 0
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if k == "$ref" {
					n++
					ref, _ := c.(string)
					if !resolves(root, ref) {
						t.Errorf("$ref %q does not resolve", ref)
					}
					continue
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(root)
	if n < 50 {
		t.Errorf("only %d $refs found; is the document complete?", n)
	}
}

func resolves(root map[string]any, ref string) bool {
	if !strings.HasPrefix(ref, "#/") {
		return false
	}
	var cur any = root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}
