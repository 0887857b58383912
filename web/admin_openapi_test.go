package web

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"

	"github.com/scopegate/scopegate/web/adminapi"
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

// wireSchemas pairs every adminapi type with its schema in openapi.yaml.
var wireSchemas = map[string]any{
	"Error":               adminapi.Error{},
	"Client":              adminapi.Client{},
	"Secret":              adminapi.Secret{},
	"ClientCreate":        adminapi.CreateClientRequest{},
	"ClientCreated":       adminapi.ClientCreated{},
	"ClientList":          adminapi.ClientList{},
	"ClientUpdate":        adminapi.UpdateClientRequest{},
	"Rotate":              adminapi.RotateRequest{},
	"Rotated":             adminapi.Rotated{},
	"Scopes":              adminapi.ScopesRequest{},
	"Deleted":             adminapi.Deleted{},
	"Website":             adminapi.Website{},
	"OperatorCreate":      adminapi.OperatorCreateRequest{},
	"OperatorCreated":     adminapi.OperatorCreated{},
	"Review":              adminapi.Review{},
	"ReviewLine":          adminapi.ReviewLine{},
	"ReviewList":          adminapi.ReviewList{},
	"ReviewLineRequest":   adminapi.ReviewLineRequest{},
	"AdminReviewRequest":  adminapi.AdminReviewRequest{},
	"PluginReviewRequest": adminapi.PluginReviewRequest{},
	"Decision":            adminapi.DecisionRequest{},
	"Decided":             adminapi.Decided{},
	"RevokeRequest":       adminapi.RevokeRequest{},
	"Revocation":          adminapi.Revocation{},
	"Grant":               adminapi.Grant{},
	"GrantList":           adminapi.GrantList{},
	"Event":               adminapi.Event{},
	"AuditPage":           adminapi.AuditPage{},
}

// jsonFields returns a struct type's JSON field names, each with whether
// it is omitempty; embedded structs are flattened as encoding/json does.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = strings.Contains(","+opts+",", ",omitempty,")
	}
	return out
}

// schemaProps returns a schema's property names and required list,
// following allOf and $ref.
func schemaProps(t *testing.T, schemas map[string]any, name string) (props map[string]bool, required []string) {
	t.Helper()
	s, ok := schemas[name].(map[string]any)
	if !ok {
		t.Fatalf("schema %s is missing from openapi.yaml", name)
	}
	props = map[string]bool{}
	var walk func(s map[string]any)
	walk = func(s map[string]any) {
		if ref, ok := s["$ref"].(string); ok {
			sub, ok := schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
			if !ok {
				t.Fatalf("%s: $ref %s does not resolve", name, ref)
			}
			walk(sub)
			return
		}
		for _, part := range asSlice(s["allOf"]) {
			if m, ok := part.(map[string]any); ok {
				walk(m)
			}
		}
		if p, ok := s["properties"].(map[string]any); ok {
			for k := range p {
				props[k] = true
			}
		}
		for _, r := range asSlice(s["required"]) {
			required = append(required, r.(string))
		}
	}
	walk(s)
	return props, required
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// TestAdminAPITypesMatchOpenAPI: each adminapi type and its schema name
// the same JSON fields, both ways; no required property is omitempty;
// every type adminapi declares is paired with a schema.
func TestAdminAPITypesMatchOpenAPI(t *testing.T) {
	var root struct {
		Components struct {
			Schemas map[string]any `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(openAPIDoc, &root); err != nil {
		t.Fatal(err)
	}
	for name, v := range wireSchemas {
		typ := reflect.TypeOf(v)
		fields := jsonFields(typ)
		props, required := schemaProps(t, root.Components.Schemas, name)
		for f := range fields {
			if !props[f] {
				t.Errorf("adminapi.%s has %q; schema %s does not", typ.Name(), f, name)
			}
		}
		for p := range props {
			if _, ok := fields[p]; !ok {
				t.Errorf("schema %s has %q; adminapi.%s does not", name, p, typ.Name())
			}
		}
		for _, r := range required {
			if omit, ok := fields[r]; ok && omit {
				t.Errorf("schema %s requires %q but adminapi.%s omits it when empty", name, r, typ.Name())
			}
		}
	}

	// Every struct type adminapi declares must be in wireSchemas.
	paired := map[string]bool{}
	for _, v := range wireSchemas {
		paired[reflect.TypeOf(v).Name()] = true
	}
	pkgs, err := parser.ParseDir(token.NewFileSet(), "adminapi", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok {
					continue
				}
				for _, sp := range g.Specs {
					ts, ok := sp.(*ast.TypeSpec)
					if !ok {
						continue
					}
					if _, isStruct := ts.Type.(*ast.StructType); isStruct && ts.Name.IsExported() {
						n++
						if !paired[ts.Name.Name] {
							t.Errorf("adminapi.%s is not checked against openapi.yaml: add it to wireSchemas", ts.Name.Name)
						}
					}
				}
			}
		}
	}
	if n < len(wireSchemas) {
		t.Errorf("found %d adminapi struct types, want at least %d", n, len(wireSchemas))
	}
}
