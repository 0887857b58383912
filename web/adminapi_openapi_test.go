package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/scopegate/scopegate/web/adminapi"
)

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
