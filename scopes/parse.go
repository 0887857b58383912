package scopes

import "strings"

// Parse parses a scope string (RFC 6749 §3.3, made strict as the package
// documentation describes) into a Set. Tokens may come in any order. The
// empty string gives the empty set and a nil error: callers treat it as an
// omitted scope parameter. Any other error is an *Error naming the first
// offending token.
func Parse(s string) (Set, error) {
	if len(s) > MaxLen {
		return Set{}, tooLong(s)
	}
	var set Set
	if s == "" {
		return set, nil
	}
	off := 0
	for {
		end := strings.IndexByte(s[off:], ' ')
		last := end < 0
		if last {
			end = len(s)
		} else {
			end += off
		}
		tok := s[off:end]
		if tok == "" {
			// Leading, trailing or repeated space.
			return Set{}, &Error{Kind: ErrWhitespace, Offset: off}
		}
		bit, err := parseToken(tok, off)
		if err != nil {
			return Set{}, err
		}
		if set.has(bit) {
			return Set{}, &Error{Kind: ErrDuplicate, Token: tok, Offset: off}
		}
		set.set(bit)
		if last {
			return set, nil
		}
		off = end + 1
	}
}

// MustParse is Parse for constants and tests: it panics if s does not parse.
func MustParse(s string) Set {
	set, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return set
}

// ParseScope parses one scope token, such as "website:people:data:write",
// as strictly as Parse does. The empty string is an error
// (ErrEmptySegment), and so is a space anywhere (ErrWhitespace).
func ParseScope(tok string) (Scope, error) {
	if len(tok) > MaxLen {
		return Scope{}, tooLong(tok)
	}
	if tok == "" {
		return Scope{}, &Error{Kind: ErrEmptySegment}
	}
	bit, err := parseToken(tok, 0)
	if err != nil {
		return Scope{}, err
	}
	return scopeOf(bit), nil
}

func tooLong(s string) *Error {
	const snippet = 32
	return &Error{Kind: ErrTooLong, Token: s[:snippet], Offset: MaxLen}
}

// parseToken parses one non-empty scope token that starts at byte off of the
// input and returns its bit in a Set.
func parseToken(tok string, off int) (int, *Error) {
	lastColon := -1
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= 0x80:
			return 0, &Error{Kind: ErrNonASCII, Token: tok, Offset: off}
		case c <= ' ' || c == 0x7f:
			// Space (only possible in ParseScope's input), tab, newline and
			// every other control character.
			return 0, &Error{Kind: ErrWhitespace, Token: tok, Offset: off}
		}
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] != ':' {
			continue
		}
		if i == 0 || i == len(tok)-1 || tok[i-1] == ':' {
			return 0, &Error{Kind: ErrEmptySegment, Token: tok, Offset: off}
		}
		lastColon = i
	}
	if lastColon >= 0 {
		name, perm := tok[:lastColon], tok[lastColon+1:]
		var p Permission
		switch perm {
		case "read":
			p = Read
		case "write":
			p = Write
		}
		if i, ok := byName[name]; ok {
			d := catalogue[i]
			switch {
			case p == Read && d.Read:
				return 2 * i, nil
			case p == Write && d.Write:
				return 2*i + 1, nil
			case p != 0:
				// A permission the catalogue does not offer for this scope.
				// (Every scope offers both today.)
				return 0, &Error{Kind: ErrUnknownPermission, Token: tok, Offset: off}
			}
			if _, whole := byName[tok]; !whole {
				return 0, &Error{Kind: ErrUnknownPermission, Token: tok, Offset: off}
			}
		}
	}
	if _, ok := byName[tok]; ok {
		return 0, &Error{Kind: ErrMissingPermission, Token: tok, Offset: off}
	}
	return 0, &Error{Kind: ErrUnknownScope, Token: tok, Offset: off}
}
