package scopes

import "strconv"

// ErrorKind classifies a parse error. It implements error, so that
// errors.Is(err, scopes.ErrUnknownScope) tells the kinds apart.
type ErrorKind uint8

// The kinds of parse error.
const (
	ErrUnknownScope      ErrorKind = iota + 1 // name not in the catalogue
	ErrMissingPermission                      // catalogue name without ":read" or ":write"
	ErrUnknownPermission                      // permission other than exactly "read" or "write"
	ErrEmptySegment                           // empty colon-separated segment ("website::read"), or an empty ParseScope argument
	ErrDuplicate                              // the same scope twice
	ErrWhitespace                             // leading, trailing or repeated space; tab, newline or other control character
	ErrNonASCII                               // a byte >= 0x80
	ErrTooLong                                // input longer than MaxLen
)

// String returns a short description of the kind, such as "unknown scope".
func (k ErrorKind) String() string {
	switch k {
	case ErrUnknownScope:
		return "unknown scope"
	case ErrMissingPermission:
		return "missing permission (want :read or :write)"
	case ErrUnknownPermission:
		return "unknown permission (want read or write)"
	case ErrEmptySegment:
		return "empty segment"
	case ErrDuplicate:
		return "duplicate scope"
	case ErrWhitespace:
		return "bad whitespace (scopes are separated by exactly one space)"
	case ErrNonASCII:
		return "non-ASCII character"
	case ErrTooLong:
		return "scope string too long"
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// Error returns "scopes: " and the kind's description.
func (k ErrorKind) Error() string { return "scopes: " + k.String() }

// Error is the error Parse, ParseScope and UnmarshalText return. It names the
// offending scope token and where it starts in the input.
type Error struct {
	Kind ErrorKind
	// Token is the offending scope token, raw: it may hold any byte. For
	// ErrWhitespace it is "" when the fault is a leading, trailing or
	// repeated space (an empty token); for ErrTooLong it is the first
	// bytes of the input. Never put Token itself into a response; Error()
	// escapes it.
	Token string
	// Offset is the byte offset in the input at which Token starts (for
	// ErrTooLong: MaxLen, the offset at which the limit is exceeded).
	Offset int
}

// maxQuoted is how many bytes of Token Error() shows.
const maxQuoted = 64

// Error describes the error, such as
//
//	scopes: unknown scope 'website:foo:read' at offset 12
//
// The text is safe to put into an OAuth 2.0 error_description (RFC 6749
// §5.2) or a WWW-Authenticate header: it holds only the characters %x20-21 /
// %x23-5B / %x5D-7E (printable ASCII without '"' and '\') and is at most a
// few hundred bytes long. Token is shown in single quotes, cut to 64 bytes
// (marked by "..."), with every byte outside %x21-7E, the double quote, the
// backslash, the percent sign and the single quote percent-encoded ("%09",
// "%C3%A9").
func (e *Error) Error() string {
	b := make([]byte, 0, 64+len(e.Kind.String())+3*maxQuoted)
	b = append(b, "scopes: "...)
	b = append(b, e.Kind.String()...)
	if e.Kind == ErrTooLong {
		b = append(b, " (more than "...)
		b = strconv.AppendInt(b, MaxLen, 10)
		b = append(b, " bytes)"...)
	}
	if e.Token != "" {
		b = append(b, ' ')
		b = appendQuoted(b, e.Token)
	}
	b = append(b, " at offset "...)
	b = strconv.AppendInt(b, int64(e.Offset), 10)
	return string(b)
}

// Is reports whether target is the ErrorKind of e, so that
// errors.Is(err, scopes.ErrDuplicate) works.
func (e *Error) Is(target error) bool {
	k, ok := target.(ErrorKind)
	return ok && k == e.Kind
}

// appendQuoted appends tok in single quotes, percent-encoding every byte that
// is not printable ASCII or that could confuse a reader or an RFC 6749
// error_description: double quote, backslash, percent sign, single quote.
func appendQuoted(b []byte, tok string) []byte {
	const hex = "0123456789ABCDEF"
	cut := len(tok) > maxQuoted
	if cut {
		tok = tok[:maxQuoted]
	}
	b = append(b, '\'')
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' || c == '%' || c == '\'' {
			b = append(b, '%', hex[c>>4], hex[c&0xf])
			continue
		}
		b = append(b, c)
	}
	b = append(b, '\'')
	if cut {
		b = append(b, "..."...)
	}
	return b
}
