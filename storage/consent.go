package storage

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/scopegate/scopegate/storage/token"
)

// ConsentTx is one consent page shown: what its answer must match. A
// consent transaction is single-use (RFC 6749 §10.12: the answer to one
// authorization request mints at most one code).
type ConsentTx struct {
	// Session is a digest of the operator's session secret.
	Session string `json:"session"`
	// Request is a digest of the authorization request and website.
	Request string `json:"request"`
}

// Consents stores single-use consent transactions by hash of their ID.
type Consents interface {
	// CreateConsent stores a transaction for ttl.
	CreateConsent(ctx context.Context, id string, tx ConsentTx, ttl time.Duration) error
	// TakeConsent deletes and returns a transaction in one atomic step.
	// Of concurrent takes exactly one succeeds; the others, and any take
	// of an unknown or expired ID, get ErrNotFound.
	TakeConsent(ctx context.Context, id string) (ConsentTx, error)
}

var _ Consents = (*Redis)(nil)

// CreateConsent implements Consents with SET PX.
func (r *Redis) CreateConsent(ctx context.Context, id string, tx ConsentTx, ttl time.Duration) error {
	if id == "" {
		return errEmptySecret
	}
	if ttl < time.Second {
		return errors.New("storage: consent TTL under a second")
	}
	if err := r.rdb.Set(ctx, r.k.consent(token.Hash(id)), mustJSON(tx), ttl).Err(); err != nil {
		return unavailable("create consent", err)
	}
	return nil
}

// TakeConsent implements Consents with GETDEL (Redis 6.2+), atomic by
// construction.
func (r *Redis) TakeConsent(ctx context.Context, id string) (ConsentTx, error) {
	var tx ConsentTx
	if id == "" {
		return tx, notFound("consent")
	}
	raw, err := r.rdb.GetDel(ctx, r.k.consent(token.Hash(id))).Bytes()
	if isNil(err) {
		return tx, notFound("consent")
	}
	if err != nil {
		return tx, unavailable("take consent", err)
	}
	if err := json.Unmarshal(raw, &tx); err != nil {
		return ConsentTx{}, corrupt("consent", err)
	}
	return tx, nil
}

// consent is the key of a consent transaction: its own slot.
func (k keys) consent(h [32]byte) string { return k.p + ":consent:" + b64(h[:]) }
