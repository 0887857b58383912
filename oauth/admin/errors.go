package admin

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/scopegate/scopegate/storage"
)

// The kinds of a service error, matched with errors.Is.
var (
	// ErrNotFound: the record acted on does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change contradicts the record's state (a taken ID,
	// a decided line, a public client's secret, a concurrent update).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input is wrong; Error.Fields names each bad field.
	ErrInvalid = errors.New("invalid")
)

// Causes more precise than a kind, also matched with errors.Is.
var (
	// ErrNotAToken: a pasted value is not a scopegate token at all.
	ErrNotAToken = errors.New("not a scopegate token")
	// ErrPublicClient: a public client has no secret to rotate.
	ErrPublicClient = errors.New("public clients have no secret")
)

// Error is a service error: its Kind (ErrNotFound, ErrConflict,
// ErrInvalid), what it is about, a description safe to show, the fields to
// blame (keyed by JSON path, for ErrInvalid and some conflicts) and a
// cause.
type Error struct {
	Kind        error
	What        string // "client", "review", ...
	Description string
	Fields      map[string]string
	Err         error
}

func (e *Error) Error() string {
	msg := e.Description
	if len(e.Fields) > 0 {
		msg = FieldsText(e.Fields)
	}
	if msg == "" {
		msg = e.What + " " + e.Kind.Error()
	}
	return "admin: " + msg
}

// Is matches the error's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap is the cause.
func (e *Error) Unwrap() error { return e.Err }

// FieldsText is fields as one line, "name: message; ..." in name order.
func FieldsText(fields map[string]string) string {
	parts := make([]string, 0, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		parts = append(parts, k+": "+fields[k])
	}
	return strings.Join(parts, "; ")
}

// NotFound is an ErrNotFound about what.
func NotFound(what string) *Error {
	return &Error{Kind: ErrNotFound, What: what, Description: what + " not found"}
}

// NotFoundBecause is an ErrNotFound with its own description.
func NotFoundBecause(what, desc string) *Error {
	return &Error{Kind: ErrNotFound, What: what, Description: desc}
}

// Invalid is an ErrInvalid naming each bad field, or nil when fields is
// empty.
func Invalid(fields map[string]string) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Kind: ErrInvalid, Fields: fields}
}

func conflict(what, desc string, fields map[string]string) *Error {
	return &Error{Kind: ErrConflict, What: what, Description: desc, Fields: fields}
}

// fromStore turns a storage error about what into a service error: not
// found and conflicts become *Error; anything else (ErrUnavailable, an
// internal fault) passes through unchanged.
func fromStore(err error, what string) error {
	var e *Error
	switch {
	case err == nil || errors.As(err, &e):
		return err
	case errors.Is(err, storage.ErrNotFound):
		return &Error{Kind: ErrNotFound, What: what, Description: what + " not found", Err: err}
	case errors.Is(err, storage.ErrAlreadyExists):
		return &Error{Kind: ErrConflict, What: what, Description: what + " already exists", Err: err}
	case errors.Is(err, storage.ErrConflict):
		return &Error{Kind: ErrConflict, What: what, Description: "concurrent update; try again", Err: err}
	}
	return err
}
