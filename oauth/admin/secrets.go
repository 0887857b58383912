package admin

import (
	"context"
	"strconv"
	"time"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// Secret grace periods of a rotation.
const (
	// DefaultGrace is how long the old secrets keep verifying when the
	// caller names no grace period.
	DefaultGrace = time.Hour
	// MaxGrace bounds a rotated secret's grace period.
	MaxGrace = 7 * 24 * time.Hour
)

// hashNewSecret is the stored form of a new secret, stamped with when it
// was made (the console shows it).
func (s *Service) hashNewSecret(secret string) storage.SecretHash {
	h := storage.HashSecret(secret, time.Time{})
	h.CreatedAt = s.now().UTC()
	return h
}

// Rotated is a rotation's outcome: the new secret (shown once, only its
// hash is stored) and when the old ones stop verifying.
type Rotated struct {
	Client             storage.Client
	Secret             string
	OldSecretsExpireAt time.Time
}

// RotateSecret gives a confidential client a new secret; its current ones
// keep verifying for grace (0 ends them now, at most MaxGrace). Secrets
// already expired are dropped. A public client is an ErrConflict wrapping
// ErrPublicClient.
func (s *Service) RotateSecret(ctx context.Context, actor, id string, grace time.Duration) (Rotated, error) {
	if grace < 0 || grace > MaxGrace || grace%time.Second != 0 {
		return Rotated{}, Invalid(map[string]string{"grace_seconds": "must be whole seconds from 0 to " + strconv.Itoa(int(MaxGrace/time.Second))})
	}
	secret := token.NewSecret()
	now := s.now()
	until := now.Add(grace)
	cl, err := s.store.UpdateClient(ctx, id, func(cl storage.Client) (storage.Client, error) {
		if cl.Type != storage.Confidential {
			return cl, &Error{Kind: ErrConflict, What: "client", Description: "public clients have no secret", Err: ErrPublicClient}
		}
		kept := make([]storage.SecretHash, 0, len(cl.Secrets)+1)
		for _, h := range cl.Secrets {
			if !h.ExpiresAt.IsZero() && !now.Before(h.ExpiresAt) {
				continue // already expired
			}
			if grace == 0 {
				continue
			}
			if h.ExpiresAt.IsZero() || until.Before(h.ExpiresAt) {
				h.ExpiresAt = until
			}
			kept = append(kept, h)
		}
		cl.Secrets = append(kept, s.hashNewSecret(secret))
		cl.UpdatedAt = now
		return cl, nil
	})
	if err != nil {
		return Rotated{}, fromStore(err, "client")
	}
	s.forget(id)
	s.Audit(ctx, actor, storage.Event{Kind: storage.KindClientSecretRotated, ClientID: id, Detail: map[string]string{
		"grace_seconds": strconv.Itoa(int(grace / time.Second)), "old_secrets_expire_at": until.UTC().Format(time.RFC3339)}})
	return Rotated{Client: cl, Secret: secret, OldSecretsExpireAt: until}, nil
}
