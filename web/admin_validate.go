package web

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"

	adminsvc "github.com/scopegate/scopegate/oauth/admin"
	"github.com/scopegate/scopegate/scopes"
)

// The validator's rules (the tags of package adminapi) and the words each
// failure is answered with. Syntax only: what depends on stored state or
// on several fields at once is the service's (oauth/admin).

var (
	idPattern      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$`)
	idDescription  = "must be 3 to 64 characters of A-Z a-z 0-9 . _ - (starting with a letter or digit)"
	refDescription = "must be 1 to 200 printable ASCII characters without space, { or }"
)

// validRef reports whether s can name an existing record (a client,
// website or grant): the storage's own ID rule, looser than the one for
// new IDs (objid), so records made by other means stay reachable.
func validRef(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '{' || c == '}' {
			return false
		}
	}
	return true
}

// scopeOffset is the " at offset N" tail of a scopes parse error.
var scopeOffset = regexp.MustCompile(` at offset [0-9]+$`)

func newAdminValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		if n := strings.Split(f.Tag.Get("json"), ",")[0]; n != "" && n != "-" {
			return n
		}
		return f.Name
	})
	must := func(err error) {
		if err != nil {
			panic(err) // a programming error in the tag names below
		}
	}
	must(v.RegisterValidation("objid", func(fl validator.FieldLevel) bool { return idPattern.MatchString(fl.Field().String()) }))
	must(v.RegisterValidation("ref", func(fl validator.FieldLevel) bool { return validRef(fl.Field().String()) }))
	must(v.RegisterValidation("redirecturi", func(fl validator.FieldLevel) bool { return adminsvc.CheckRedirectURI(fl.Field().String()) == nil }))
	// pageurl and optlabel take "" too: on an update it clears the field.
	must(v.RegisterValidation("pageurl", func(fl validator.FieldLevel) bool {
		return fl.Field().String() == "" || adminsvc.CheckRedirectURI(fl.Field().String()) == nil
	}))
	must(v.RegisterValidation("optlabel", func(fl validator.FieldLevel) bool {
		return fl.Field().String() == "" || validLabel(fl.Field().String())
	}))
	must(v.RegisterValidation("scope", func(fl validator.FieldLevel) bool {
		_, err := scopes.ParseScope(fl.Field().String())
		return err == nil
	}))
	must(v.RegisterValidation("label", func(fl validator.FieldLevel) bool { return validLabel(fl.Field().String()) }))
	must(v.RegisterValidation("sentence", func(fl validator.FieldLevel) bool { return validSentence(fl.Field().String()) }))
	must(v.RegisterValidation("note", func(fl validator.FieldLevel) bool { return validNote(fl.Field().String()) }))
	return v
}

func describeField(fe validator.FieldError) string {
	kind := fe.Kind()
	if kind == reflect.Pointer {
		kind = fe.Type().Elem().Kind()
	}
	switch fe.Tag() {
	case "required":
		return "is required"
	case "objid":
		return idDescription
	case "ref":
		return refDescription
	case "redirecturi", "pageurl":
		// The reason alone: each one already says what is wanted.
		return adminsvc.CheckRedirectURI(fmt.Sprint(fe.Value())).Error()
	case "scope":
		_, err := scopes.ParseScope(fmt.Sprint(fe.Value()))
		msg := "must be a scope NAME:read or NAME:write from the catalogue"
		if err != nil {
			// One scope per field: the parser's offset says nothing here.
			msg += " (" + scopeOffset.ReplaceAllString(strings.TrimPrefix(err.Error(), "scopes: "), "") + ")"
		}
		return msg
	case "label", "optlabel":
		return "must be 1 to 100 printable characters"
	case "sentence":
		return fmt.Sprintf("must be a real sentence: at least %d characters and %d words", minJustification, minJustificationWords)
	case "note":
		return "must be at most 1000 printable characters"
	case "email":
		return "must be an e-mail address"
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "unique":
		return "must not repeat a value"
	case "min", "max", "len":
		word := map[string]string{"min": "at least", "max": "at most", "len": "exactly"}[fe.Tag()]
		switch kind {
		case reflect.String:
			return fmt.Sprintf("must be %s %s characters", word, fe.Param())
		case reflect.Slice, reflect.Array, reflect.Map:
			return fmt.Sprintf("must have %s %s items", word, fe.Param())
		}
		return fmt.Sprintf("must be %s %s", word, fe.Param())
	}
	return "is invalid (" + fe.Tag() + ")"
}

// validLabel: a display name: 1-100 characters, printable, no leading or
// trailing space.
func validLabel(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 100 || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func validNote(s string) bool {
	if utf8.RuneCountInString(s) > 1000 {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != '\n' {
			return false
		}
	}
	return true
}

// A justification must be a real sentence.
const (
	minJustification      = 20
	minJustificationWords = 4
)

func validSentence(s string) bool {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) < minJustification || utf8.RuneCountInString(s) > 2000 {
		return false
	}
	words, letters := 0, 0
	for _, w := range strings.Fields(s) {
		has := false
		for _, r := range w {
			if unicode.IsLetter(r) {
				letters++
				has = true
			}
		}
		if has {
			words++
		}
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != '\n' {
			return false
		}
	}
	return words >= minJustificationWords && letters >= minJustification/2
}
