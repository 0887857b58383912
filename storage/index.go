package storage

import (
	"context"
	"crypto/sha1"
	"encoding/binary"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Grant indexes (client → grants, website → grants) are sorted sets of
// grant IDs scored by a lower bound of the grant's expiry, in whole
// seconds. A big plugin holds tens of thousands of grants; one sorted set
// that large leaves Redis's compact listpack encoding (above 128 entries)
// for a skiplist costing some 120 bytes an entry instead of some 35. So an
// index is split into shards by linear hashing, each shard a sorted set
// of at most about indexSplitAt entries, all under the owner's hash tag
// (one slot):
//
//	<base>       shard 0 (P:{c:<id>}:g or P:{w:<id>}:g)
//	<base>:<i>   shard i, 0 < i < n
//	<base>:n     n, the number of shards (absent: 1)
//
// A grant ID's shard is a function of its hash h (the first 4 bytes of its
// SHA-1, a uint32) and n alone: with p the largest power of two <= n,
// i = h mod p, or h mod 2p when that leaves i < n-p (shards below n-p are
// split already). When an insertion leaves its shard with indexSplitAt
// entries or more, the same script splits shard n-p into itself and shard n
// and raises n by one: at most one shard's entries move, and every entry
// always sits in shard(id, n). Indexes never shrink their shard count;
// emptied shards cost nothing (Redis drops empty keys).
//
// Insertion checks n inside its script (a stale guess is retried), so the
// invariant holds; reads of a whole index read n and every shard in one
// MULTI; removals and score raises, which are best effort anyway, address
// shard(id, n) as last read, and a removal that missed because of a
// concurrent split leaves an entry the next listing prunes.

// indexSplitAt is the shard size that makes an insertion split a shard. It
// is below Redis's default zset-max-listpack-entries (128), so shards other
// than the one being split wait with room to spare.
const indexSplitAt = 100

// indexScore is the score of a grant expiring at t: whole seconds (a lower
// bound), which listpacks store in 4 bytes rather than 8.
func indexScore(t time.Time) float64 { return float64(t.UnixMilli() / 1000) }

func shardKey(base string, i int) string {
	if i == 0 {
		return base
	}
	return base + ":" + strconv.Itoa(i)
}

func shardCountKey(base string) string { return base + ":n" }

// splitPoint is the largest power of two <= n.
func splitPoint(n int) int {
	p := 1
	for p*2 <= n {
		p *= 2
	}
	return p
}

// shardOf is the shard of member in an index of n shards (as the scripts'
// shard function).
func shardOf(member string, n int) int {
	sum := sha1.Sum([]byte(member))
	h := int(binary.BigEndian.Uint32(sum[:4]))
	p := splitPoint(n)
	i := h % p
	if i < n-p {
		i = h % (2 * p)
	}
	return i
}

// shardCounts caches each index's shard count. A count only grows (short
// of someone deleting the index), and every use of a cached count is checked against Redis (insertion in its
// script, reads in their MULTI, removals in their pipeline), so a stale
// entry costs a round trip, never a wrong answer.
type shardCounts struct {
	mu sync.Mutex
	m  map[string]int
}

const shardCountsMax = 1 << 14

func (c *shardCounts) get(base string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.m[base]; ok {
		return n
	}
	return 1
}

// put records a shard count read from Redis. Concurrent callers may put
// counts read at different times: a count only grows, so the larger one
// stays, unless force (a guess was just found wrong, so n is the truth,
// even below the cached count if the index was deleted).
func (c *shardCounts) put(base string, n int, force bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.m[base]
	switch {
	case ok && n < old && !force:
	case n <= 1: // the default: not worth a slot
		delete(c.m, base)
	case ok || len(c.m) < shardCountsMax:
		if c.m == nil {
			c.m = make(map[string]int)
		}
		c.m[base] = n
	}
}

// shardCountOf reads a shard count reply (redis.Nil: 1).
func shardCountOf(cmd *redis.StringCmd) (int, error) {
	v, err := cmd.Result()
	if isNil(err) {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, corrupt("index shard count", err)
	}
	return n, nil
}

// indexAdd adds a grant to the index at base (one script, retried when the
// cached shard count was stale) and returns up to 16 entries of the same
// shard that are candidates for pruning, and the shard count. With ptr (a
// client-credentials pointer in the index's slot) the same script sets the
// pointer to id when it is absent or holds expect.
func (r *Redis) indexAdd(ctx context.Context, base, id string, exp, now time.Time, ptr, expect string) (indexAdded, error) {
	n := r.shards.get(base)
	for range updateRetries {
		p := splitPoint(n)
		res, err := indexAddScript.run(ctx, r, indexAddArgs{
			count: shardCountKey(base), shard: shardKey(base, shardOf(id, n)),
			splitFrom: shardKey(base, n-p), splitTo: shardKey(base, n),
			pointer: ptr, expect: expect,
			guess: n, score: indexScore(exp), member: id, nowSec: now.UnixMilli() / 1000, splitAt: indexSplitAt,
		})
		if err != nil {
			return indexAdded{}, err
		}
		r.shards.put(base, res.n, !res.ok)
		n = res.n
		if res.ok {
			return res, nil
		}
	}
	return indexAdded{}, ErrConflict
}

// indexEntry is a grant ID read from an index, with the shard it was in.
type indexEntry struct {
	id    string
	shard string
}

// indexMembers reads a whole index: its shard count and every shard in
// one MULTI, so that no split can hide an entry between two reads.
func (r *Redis) indexMembers(ctx context.Context, base string) ([]indexEntry, error) {
	n := r.shards.get(base)
	for range updateRetries {
		var cnt *redis.StringCmd
		zs := make([]*redis.StringSliceCmd, n)
		_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			cnt = p.Get(ctx, shardCountKey(base))
			for i := range zs {
				zs[i] = p.ZRange(ctx, shardKey(base, i), 0, -1)
			}
			return nil
		})
		if err != nil && !isNil(err) {
			return nil, err
		}
		actual, err := shardCountOf(cnt)
		if err != nil {
			return nil, err
		}
		r.shards.put(base, actual, actual != n)
		if actual != n {
			n = actual
			continue
		}
		var out []indexEntry
		for i, z := range zs {
			key := shardKey(base, i)
			for _, id := range z.Val() {
				out = append(out, indexEntry{id, key})
			}
		}
		return out, nil
	}
	return nil, ErrConflict
}

// indexRemove removes grants from indexes, best effort: items are {index
// base, grant ID} pairs. One round trip when the cached shard counts are
// current, two otherwise.
func (r *Redis) indexRemove(ctx context.Context, items [][2]string) {
	if len(items) == 0 {
		return
	}
	guess := map[string]int{}
	for _, it := range items {
		guess[it[0]] = r.shards.get(it[0])
	}
	pipe := r.rdb.Pipeline()
	cnts := map[string]*redis.StringCmd{}
	for base := range guess {
		cnts[base] = pipe.Get(ctx, shardCountKey(base))
	}
	for _, it := range items {
		pipe.ZRem(ctx, shardKey(it[0], shardOf(it[1], guess[it[0]])), it[1])
	}
	if _, err := pipe.Exec(ctx); err != nil && !isNil(err) {
		return // best effort: a stale entry is pruned by the next listing
	}
	pipe = r.rdb.Pipeline()
	again := 0
	for _, it := range items {
		n, err := shardCountOf(cnts[it[0]])
		if err != nil {
			continue
		}
		r.shards.put(it[0], n, n != guess[it[0]])
		if n != guess[it[0]] {
			pipe.ZRem(ctx, shardKey(it[0], shardOf(it[1], n)), it[1])
			again++
		}
	}
	if again > 0 {
		_, _ = pipe.Exec(ctx) // best effort, as above
	}
}
