package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"

	"github.com/scopegate/scopegate/oauth"
)

// The admin API's one body decoder and validator (validator/v10 with the
// tags of package adminapi), shared by every admin and plugin API route.

// decode reads a JSON body into dst: application/json only, bounded, no
// unknown fields, no trailing data, then validated. It returns the bad
// fields (possibly none), or ok=false when it has already answered (a body
// that is not JSON at all). An empty body is allowed when optional.
func (a *admin) decode(c *gin.Context, dst any, optional bool) (fields map[string]string, ok bool) {
	r := c.Request
	r.Body = http.MaxBytesReader(c.Writer, r.Body, adminMaxBody)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			apiFail(c, http.StatusRequestEntityTooLarge, oauth.CodeInvalidRequest, fmt.Sprintf("request body larger than %d bytes", adminMaxBody))
			return nil, false
		}
		apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "could not read the request body")
		return nil, false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		if !optional {
			apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "a JSON request body is required")
			return nil, false
		}
		return a.validate(dst), true
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		apiFail(c, http.StatusUnsupportedMediaType, oauth.CodeInvalidRequest, "Content-Type must be application/json")
		return nil, false
	}
	if !utf8.Valid(body) {
		apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "the request body is not valid UTF-8")
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	if err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, fmt.Sprintf("malformed JSON at byte %d", syn.Offset))
		case errors.As(err, &typ) && typ.Field != "":
			return map[string]string{typ.Field: "must be " + jsonKind(typ.Type)}, true
		case errors.As(err, &typ):
			apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "the body must be a JSON object")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return map[string]string{sanitizeField(name): "is not a known field"}, true
		default:
			apiFail(c, http.StatusBadRequest, oauth.CodeInvalidRequest, "malformed JSON body")
		}
		return nil, false
	}
	return a.validate(dst), true
}

// sanitizeField keeps an unknown field's name printable and short: it goes
// back to the client inside the error.
func sanitizeField(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 64 {
			b.WriteString("...")
			break
		}
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(jsonKind(t.Elem()), "a "), "an ") + "s"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "of another type"
}

// validate runs the validator and names each failing field by its JSON
// path, such as "redirect_uris[0]" or "lines[1].justification".
func (a *admin) validate(dst any) map[string]string {
	err := a.v.Struct(dst)
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		if err != nil {
			return map[string]string{"body": "is invalid"}
		}
		return nil
	}
	fields := make(map[string]string, len(verrs))
	for _, fe := range verrs {
		ns := fe.Namespace()
		if i := strings.IndexByte(ns, '.'); i >= 0 {
			ns = ns[i+1:]
		}
		if _, seen := fields[ns]; !seen {
			fields[ns] = describeField(fe)
		}
	}
	return fields
}

// queryFields rejects query parameters that are unknown or given twice.
func queryFields(q map[string][]string, known ...string) map[string]string {
	f := map[string]string{}
	for k, vs := range q {
		ok := false
		for _, n := range known {
			ok = ok || k == n
		}
		switch {
		case !ok:
			f[sanitizeField(k)] = "is not a known parameter"
		case len(vs) > 1:
			f[k] = "is given more than once"
		}
	}
	return f
}
