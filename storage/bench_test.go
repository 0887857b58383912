package storage_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

// Benchmarks run against a real redis-server started for each, on
// loopback. Compare each with BenchmarkFloorGet (a bare go-redis GET of a
// small key, in the same run): the ratio is what the store costs over the
// round trip every Redis call pays.
//
//	go test -run='^$' -bench=. -benchmem -benchtime=2000x ./storage/

func benchStore(b *testing.B) (*storage.Redis, *redis.Client) {
	rdb := redis.NewClient(&redis.Options{Addr: redistest.StartServer(b)})
	s := storage.NewRedis(rdb, storage.RedisOptions{})
	b.Cleanup(func() { _ = s.Close() })
	return s, rdb
}

// benchScopes is a realistic website grant: six scopes, reads and writes.
func benchScopes() scopes.Set {
	ws := scopes.WebsiteScopes().Strings()
	return scopes.MustParse(strings.Join([]string{ws[2], ws[11], ws[12], ws[30], ws[41], ws[44]}, " "))
}

// grants creates n website grants of client "c"+i%clients on website
// "w"+i%websites.
func grants(b *testing.B, s storage.Store, n, clients, websites int) []storage.Grant {
	b.Helper()
	gs := make([]storage.Grant, n)
	for i := range gs {
		gs[i] = storage.Grant{ID: token.NewID(), ClientID: "c" + strconv.Itoa(i%clients),
			WebsiteID: "w" + strconv.Itoa(i%websites), OperatorID: "op" + strconv.Itoa(i%websites), Scopes: benchScopes()}
	}
	parallel(b, n, func(i int) error { return s.CreateGrant(b.Context(), gs[i]) })
	return gs
}

func newTok(kind token.Kind, g storage.Grant, ttl time.Duration) storage.NewToken {
	now := time.Now()
	return storage.NewToken{Value: token.New(kind, g.ID), Token: storage.Token{Kind: kind, GrantID: g.ID,
		ClientID: g.ClientID, Scopes: g.Scopes, IssuedAt: now, ExpiresAt: now.Add(ttl)}}
}

// parallel runs fn(0..n-1) on 32 goroutines (setup only, not timed).
func parallel(b *testing.B, n int, fn func(i int) error) {
	b.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan int)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

func BenchmarkFloorGet(b *testing.B) {
	_, rdb := benchStore(b)
	ctx := b.Context()
	if err := rdb.Set(ctx, "floor", "a small value", 0).Err(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := rdb.Get(ctx, "floor").Err(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssue(b *testing.B) {
	s, _ := benchStore(b)
	gs := grants(b, s, 1000, 10, 1000)
	toks := make([]storage.NewToken, b.N)
	for i := range toks {
		toks[i] = newTok(token.Access, gs[i%len(gs)], time.Hour)
	}
	ctx := b.Context()
	b.ResetTimer()
	for i := range b.N {
		if err := s.IssueTokens(ctx, toks[i]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	s, _ := benchStore(b)
	gs := grants(b, s, 1000, 10, 1000)
	toks := make([]storage.NewToken, 10_000)
	parallel(b, len(toks), func(i int) error {
		toks[i] = newTok(token.Access, gs[i%len(gs)], time.Hour)
		return s.IssueTokens(b.Context(), toks[i])
	})
	ctx := b.Context()
	i := 0
	for b.Loop() {
		if _, _, err := s.LookupToken(ctx, toks[i%len(toks)].Value); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkRevokeGrant(b *testing.B) {
	s, _ := benchStore(b)
	gs := grants(b, s, b.N, 10, 1000)
	parallel(b, b.N, func(i int) error {
		return s.IssueTokens(b.Context(), newTok(token.Access, gs[i], time.Hour), newTok(token.Refresh, gs[i], 30*24*time.Hour))
	})
	ctx := b.Context()
	b.ResetTimer()
	for i := range b.N {
		rev, err := s.RevokeGrant(ctx, gs[i].ID)
		if err != nil || rev != (storage.Revocation{Grants: 1, Tokens: 2}) {
			b.Fatalf("RevokeGrant = %+v, %v", rev, err)
		}
	}
}

// BenchmarkRevokeClient100k times one RevokeClient of a plugin holding 100k
// live access tokens (20k websites × 5 tokens). It runs once whatever
// -benchtime says: ns/op is that one call, tokens/op what it revoked.
func BenchmarkRevokeClient100k(b *testing.B) {
	s, _ := benchStore(b)
	const nGrants, perGrant = 20_000, 5
	gs := grants(b, s, nGrants, 1, nGrants)
	parallel(b, nGrants, func(i int) error {
		toks := make([]storage.NewToken, perGrant)
		for j := range toks {
			toks[j] = newTok(token.Access, gs[i], time.Hour)
		}
		return s.IssueTokens(b.Context(), toks...)
	})
	var rev storage.Revocation
	var took time.Duration
	done := false
	for b.Loop() {
		if done {
			continue
		}
		start := time.Now()
		var err error
		rev, err = s.RevokeClient(b.Context(), "c0")
		took = time.Since(start)
		if err != nil || rev.Tokens != nGrants*perGrant || rev.Grants != nGrants {
			b.Fatalf("RevokeClient = %+v, %v", rev, err)
		}
		done = true
	}
	b.ReportMetric(float64(took.Nanoseconds()), "ns/op")
	b.ReportMetric(float64(rev.Tokens), "tokens/op")
	b.ReportMetric(float64(took.Nanoseconds())/float64(rev.Tokens), "ns/token")
}

// BenchmarkMemoryPerToken reports Redis memory (INFO memory used_memory
// delta) per live access token over 100k tokens, grants and indexes
// included, for three realistic shapes of grant. It runs once whatever
// -benchtime says.
func BenchmarkMemoryPerToken(b *testing.B) {
	const total = 100_000
	for _, shape := range []struct {
		name             string
		access           int  // live access tokens per grant
		refresh          bool // plus one live refresh token
		clientCredential bool
	}{
		{"website/1access+1refresh", 1, true, false},
		{"website/5access+1refresh", 5, true, false},
		{"clientcredentials/100access", 100, false, true},
	} {
		b.Run(shape.name, func(b *testing.B) {
			s, rdb := benchStore(b)
			ctx := b.Context()
			before := usedMemory(b, ctx, rdb)
			n := total / shape.access
			var gs []storage.Grant
			if shape.clientCredential {
				gs = make([]storage.Grant, n)
				parallel(b, n, func(i int) error {
					now := time.Now()
					var err error
					_, gs[i], err = s.IssueClientCredentials(ctx, storage.Grant{ID: token.NewID(), ClientID: "plugin" + strconv.Itoa(i), Scopes: scopes.PluginScopes()},
						storage.Token{Scopes: scopes.PluginScopes(), IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
					return err
				})
			} else {
				gs = grants(b, s, n, 100, n/10) // 100 plugins, 10 grants per website
			}
			parallel(b, n, func(i int) error {
				var toks []storage.NewToken
				n := shape.access
				if shape.clientCredential {
					n-- // IssueClientCredentials stored the first
				}
				for range n {
					toks = append(toks, newTok(token.Access, gs[i], time.Hour))
				}
				if shape.refresh {
					toks = append(toks, newTok(token.Refresh, gs[i], 30*24*time.Hour))
				}
				return s.IssueTokens(ctx, toks...)
			})
			used := usedMemory(b, ctx, rdb) - before
			for b.Loop() { // the measurement above is the whole benchmark
			}
			b.ReportMetric(float64(used)/total, "bytes/token")
			b.ReportMetric(float64(used)/float64(n), "bytes/grant")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func usedMemory(b *testing.B, ctx context.Context, rdb *redis.Client) int64 {
	b.Helper()
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal(fmt.Errorf("no used_memory in INFO memory"))
	return 0
}
