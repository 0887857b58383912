package storage

import (
	"crypto/subtle"
	"time"

	"github.com/scopegate/scopegate/storage/token"
)

// HashSecret returns the SecretHash to store for a client secret (see
// token.NewSecret), expiring at exp (zero: never).
func HashSecret(secret string, exp time.Time) SecretHash {
	return SecretHash{Hash: token.Hash(secret), ExpiresAt: exp}
}

// VerifySecret reports whether secret matches one of the client's
// unexpired secret hashes at time now. Every stored hash is compared, in
// constant time, whatever matches: the time taken reveals neither which
// hash matched nor how much of it.
func (c Client) VerifySecret(secret string, now time.Time) bool {
	if secret == "" {
		return false
	}
	h := token.Hash(secret)
	ok := 0
	for _, s := range c.Secrets {
		live := s.ExpiresAt.IsZero() || now.Before(s.ExpiresAt)
		eq := subtle.ConstantTimeCompare(h[:], s.Hash[:])
		if live {
			ok |= eq
		}
	}
	return ok == 1
}
