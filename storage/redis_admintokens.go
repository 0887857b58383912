package storage

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/storage/token"
)

// RetireAdminTokensExcept deletes every stored admin token but keep (which
// it stores with label), atomically (one MULTI/EXEC), and returns how many
// other tokens were retired. It is how an operator who lost an admin token,
// or wants old ones gone, ends up with exactly one valid token: `scopegate
// serve --admin-token NEW --admin-token-only`.
func (r *Redis) RetireAdminTokensExcept(ctx context.Context, keep, label string) (int, error) {
	if keep == "" {
		return 0, errEmptySecret
	}
	h := token.Hash(keep)
	field := b64(h[:])
	var total *redis.IntCmd
	var had *redis.BoolCmd
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		total = p.HLen(ctx, r.k.adminTokens())
		had = p.HExists(ctx, r.k.adminTokens(), field)
		p.Del(ctx, r.k.adminTokens())
		p.HSet(ctx, r.k.adminTokens(), field, label)
		return nil
	})
	if err != nil {
		return 0, unavailable("retire admin tokens", err)
	}
	n := int(total.Val())
	if had.Val() {
		n--
	}
	return n, nil
}
