// Package token defines scopegate's opaque token format: how codes, access
// tokens and refresh tokens are minted, recognised and hashed.
//
// A token reads
//
//	sg<k>_<grant:22><secret:43><check:6>
//
// where <k> is the kind (c = authorization code, a = access token, r =
// refresh token), <grant> is the base62 grant ID (16 random bytes, not a
// secret: it names the grant the way Vault's accessor names a token), <secret>
// is 32 random bytes (256 bits) in base62, and <check> is the CRC-32 (IEEE) of
// everything before it, in base62. Every token is 75 characters and matches
//
//	\bsg[acr]_[0-9A-Za-z]{71}\b
//
// which is the regular expression secret scanners should use. The checksum
// lets the server reject a mistyped or made-up string without touching
// storage; it is not a security boundary (anyone can compute a CRC).
//
// Only a SHA-256 of the whole token is ever stored (see Hash). The grant ID
// is read from the token so that storage can route every key of one grant to
// one Redis Cluster slot.
//
// This package imports nothing of scopegate's.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"math/big"
)

// Kind is what a token is for.
type Kind byte

// The kinds of token, by their prefix letter.
const (
	Code    Kind = 'c'
	Access  Kind = 'a'
	Refresh Kind = 'r'
)

// String returns the kind's name as RFC 7009 token_type_hint spells it
// ("access_token", "refresh_token") or "authorization_code".
func (k Kind) String() string {
	switch k {
	case Code:
		return "authorization_code"
	case Access:
		return "access_token"
	case Refresh:
		return "refresh_token"
	}
	return "unknown"
}

// Prefix returns the token prefix for the kind, such as "sga_".
func (k Kind) Prefix() string { return "sg" + string(rune(k)) + "_" }

// Lengths of the parts of a token, in characters.
const (
	prefixLen = 4
	GrantLen  = 22 // base62 of 16 bytes
	secretLen = 43 // base62 of 32 bytes
	checkLen  = 6  // base62 of a uint32
	// Len is the length of every well-formed token.
	Len = prefixLen + GrantLen + secretLen + checkLen
)

// Pattern is the regular expression secret scanners can use to find tokens.
const Pattern = `\bsg[acr]_[0-9A-Za-z]{71}\b`

// SecretPattern matches client secrets (see NewSecret), which carry no
// checksum.
const SecretPattern = `\bsgs_[0-9A-Za-z]{43}\b`

// ErrMalformed is returned by Parse for anything that is not a well-formed
// token: wrong length, prefix, alphabet or checksum.
var ErrMalformed = errors.New("token: malformed")

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewID returns a new random 16-byte ID in fixed-width base62 (22
// characters). Grant IDs are made with it.
func NewID() string {
	var b [16]byte
	mustRead(b[:])
	return encode(b[:], GrantLen)
}

// IsID reports whether id has the form of a NewID value: 22 base62
// characters.
func IsID(id string) bool { return isBase62(id, GrantLen) }

// New mints a token of the given kind for the grant. grantID must be a value
// returned by NewID (22 base62 characters); New panics otherwise, since that
// is a programming error.
func New(kind Kind, grantID string) string {
	if !validKind(kind) || !IsID(grantID) {
		panic("token: New called with an invalid kind or grant ID")
	}
	var secret [32]byte
	mustRead(secret[:])
	buf := make([]byte, 0, Len)
	buf = append(buf, kind.Prefix()...)
	buf = append(buf, grantID...)
	buf = append(buf, encode(secret[:], secretLen)...)
	buf = append(buf, checksum(buf)...)
	return string(buf)
}

// Parse checks a token's shape and checksum and returns its kind and grant
// ID. It does no I/O.
func Parse(s string) (Kind, string, error) {
	if len(s) != Len || s[0] != 's' || s[1] != 'g' || s[3] != '_' {
		return 0, "", ErrMalformed
	}
	kind := Kind(s[2])
	if !validKind(kind) || !isBase62(s[prefixLen:], Len-prefixLen) {
		return 0, "", ErrMalformed
	}
	// The checksum is public (anyone can compute a CRC), so a plain
	// comparison is fine; it runs without allocating, on every request.
	var want [checkLen]byte
	putCheck(&want, crc32.ChecksumIEEE([]byte(s[:Len-checkLen])))
	if string(want[:]) != s[Len-checkLen:] {
		return 0, "", ErrMalformed
	}
	return kind, s[prefixLen : prefixLen+GrantLen], nil
}

// Hash returns the SHA-256 of the token: the only form in which a token is
// stored.
func Hash(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// NewSecret returns a new client secret: "sgs_" and 43 base62 characters
// (256 bits). Secrets carry no grant and no checksum.
func NewSecret() string { return "sgs_" + NewRandom() }

func validKind(k Kind) bool { return k == Code || k == Access || k == Refresh }

func isBase62(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

func checksum(b []byte) []byte {
	var out [checkLen]byte
	putCheck(&out, crc32.ChecksumIEEE(b))
	return out[:]
}

// putCheck writes c in base62, left-padded to checkLen: the same digits
// encode gives for its four big-endian bytes.
func putCheck(out *[checkLen]byte, c uint32) {
	for i := checkLen - 1; i >= 0; i-- {
		out[i] = alphabet[c%62]
		c /= 62
	}
}

// encode writes b as a big-endian base62 number, left-padded with '0' to
// width characters.
func encode(b []byte, width int) string {
	n := new(big.Int).SetBytes(b)
	out := make([]byte, width)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = alphabet[mod.Int64()]
	}
	return string(out)
}

func mustRead(b []byte) {
	// crypto/rand.Read never returns an error on supported platforms
	// (Go 1.24+); it crashes the program irrecoverably instead.
	_, _ = rand.Read(b)
}
