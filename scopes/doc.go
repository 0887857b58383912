// Package scopes owns scopegate's scope model: the catalogue of the 35
// marketplace scopes, the grammar of scope strings, and Set, the value type
// that holds a set of granted scopes with its set algebra and canonical text
// form.
//
// The catalogue (see Catalogue) is the one table that consent pages, the
// review page, discovery metadata (RFC 8414 scopes_supported) and the docs
// are built from. Each entry carries the scope's description, an example REST
// API route, its kind (website or plugin), which permissions exist for it,
// and one plain sentence per permission (Def.Sentence) for the pages people
// read: a READ box shows the read sentence, a WRITE box the write one.
//
// # Dependencies
//
// This package is pure Go and imports only the standard library. It must not
// import anything of scopegate's: every other package (storage, oauth, web,
// the resource-server middleware) imports it, never the other way round.
//
// # Grammar
//
// A scope string is an RFC 6749 §3.3 scope parameter, made strict:
//
//	scope-string = "" / scope-token *( SP scope-token )   ; SP is exactly one 0x20
//	scope-token  = name ":" permission
//	name         = segment 1*( ":" segment )              ; a catalogue name
//	segment      = 1*( %x61-7A )                          ; lower-case ASCII letters
//	permission   = "read" / "write"
//
// Since a name itself contains colons, the permission is whatever follows
// the last colon. Everything is case-sensitive. Parse rejects, with an *Error
// naming the offending token and its byte offset: leading, trailing or
// repeated spaces and any other whitespace or control character
// (ErrWhitespace); any byte >= 0x80 (ErrNonASCII); an empty colon-separated
// segment (ErrEmptySegment); a name not in the catalogue (ErrUnknownScope); a
// catalogue name without a permission (ErrMissingPermission); a permission
// other than exactly "read" or "write" (ErrUnknownPermission); the same scope
// twice (ErrDuplicate); input longer than MaxLen (ErrTooLong, checked first).
// The empty string parses to the empty set without error; callers treat it
// as an omitted scope parameter.
//
// # Write never implies read
//
// Read and write are granted independently: "website:people:data:write"
// grants write only. A Set holding only the write permission of a scope does
// not Contain its read permission, and no operation in this package adds one
// permission because of the other. Use RequiredPermission to map an HTTP
// method to the permission a request needs: POST, PUT, PATCH and DELETE need
// write, every other method needs read.
//
// # Canonical form
//
// A Set has exactly one text form (Set.String, Set.MarshalText): its scope
// tokens separated by single spaces, in catalogue order, the read token of a
// scope before its write token; the empty set is "". Parse accepts the
// tokens in any order, so Parse(x).String() canonicalises x, and
// Parse(s.String()) == s for every Set s. Set values are comparable with ==
// and their zero value is the empty set.
package scopes
