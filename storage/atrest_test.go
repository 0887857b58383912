package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/storage/conformance"
)

// redisAtRest is the conformance suite's view of what a Redis store keeps:
// the keys under its prefix, found on every master of a cluster.
type redisAtRest struct {
	raw    redis.UniversalClient // a client of its own to the same Redis
	prefix string
}

var _ conformance.AtRest = redisAtRest{}

// keys lists the keys under the prefix.
func (a redisAtRest) keys(ctx context.Context) ([]string, error) {
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, c *redis.Client) error {
		it := c.Scan(ctx, 0, a.prefix+":*", 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	switch c := a.raw.(type) {
	case *redis.ClusterClient:
		return keys, c.ForEachMaster(ctx, scan)
	case *redis.Client:
		return keys, scan(ctx, c)
	}
	return nil, fmt.Errorf("unsupported raw client %T", a.raw)
}

// Dump implements conformance.AtRest: each key's name and every value
// under it, as text.
func (a redisAtRest) Dump(ctx context.Context) ([]string, error) {
	keys, err := a.keys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(keys))
	for _, key := range keys {
		vals, err := a.values(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out = append(out, key+"\n"+strings.Join(vals, "\n"))
	}
	return out, nil
}

func (a redisAtRest) values(ctx context.Context, key string) ([]string, error) {
	c := a.raw
	typ, err := c.Type(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	switch typ {
	case "string":
		v, err := c.Get(ctx, key).Result()
		if errors.Is(err, redis.Nil) {
			return nil, nil // expired since SCAN
		}
		return []string{v}, err
	case "hash":
		m, err := c.HGetAll(ctx, key).Result()
		var vals []string
		for k, v := range m {
			vals = append(vals, k, v)
		}
		return vals, err
	case "set":
		return c.SMembers(ctx, key).Result()
	case "zset":
		return c.ZRange(ctx, key, 0, -1).Result()
	case "list":
		return c.LRange(ctx, key, 0, -1).Result()
	case "stream":
		msgs, err := c.XRange(ctx, key, "-", "+").Result()
		var vals []string
		for _, m := range msgs {
			vals = append(vals, fmt.Sprint(m.Values))
		}
		return vals, err
	case "none": // expired since SCAN
		return nil, nil
	}
	return nil, fmt.Errorf("unexpected type %s", typ)
}

// Count implements conformance.AtRest: Records are hash fields,
// IndexEntries sorted set members.
func (a redisAtRest) Count(ctx context.Context, kind conformance.Entries) (int64, error) {
	typ := map[conformance.Entries]string{conformance.Records: "hash", conformance.IndexEntries: "zset"}[kind]
	if typ == "" {
		return 0, fmt.Errorf("unknown entry kind %d", kind)
	}
	keys, err := a.keys(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, key := range keys {
		t, err := a.raw.Type(ctx, key).Result()
		if err != nil {
			return 0, err
		}
		var m int64
		switch {
		case t != typ:
		case typ == "hash":
			m, err = a.raw.HLen(ctx, key).Result()
		default:
			m, err = a.raw.ZCard(ctx, key).Result()
		}
		if err != nil {
			return 0, err
		}
		n += m
	}
	return n, nil
}
