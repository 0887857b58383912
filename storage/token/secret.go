package token

import "crypto/subtle"

// NewRandom returns 256 fresh random bits as 43 base62 characters: safe in
// a URL, a cookie, a form field and a Redis key, with no prefix. It is the
// one minter of the server's short-lived secrets: operator and admin
// session secrets, CSRF tokens, consent transaction IDs, OAuth state.
// Client secrets are NewSecret (the same bits behind a prefix scanners
// recognise); tokens are New.
func NewRandom() string {
	var b [32]byte
	mustRead(b[:])
	return encode(b[:], secretLen)
}

// Equal reports whether two secrets are equal, in time that depends only
// on their lengths (crypto/subtle), never on where they differ. An empty
// secret equals nothing, not even another empty one: a missing cookie or
// form field never matches a missing stored value.
func Equal(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
