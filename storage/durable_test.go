package storage_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/conformance"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

// TestRedisReplicatedCluster runs the conformance suite on a Redis Cluster
// of three primaries with a replica each, the store waiting for one
// replica. Afterwards no node has ever answered CROSSSLOT (every
// multi-key step stays in one slot) and the primaries did run WAIT.
func TestRedisReplicatedCluster(t *testing.T) {
	c := redistest.StartReplicatedCluster(t)
	t.Cleanup(func() { // after every parallel subtest
		ctx := context.Background()
		waits := 0
		for _, n := range c.Nodes {
			rc := redis.NewClient(&redis.Options{Addr: n.Addr})
			stats, err := rc.Info(ctx, "errorstats", "commandstats").Result()
			rc.Close()
			if err != nil {
				t.Errorf("node %s: %v", n.Addr, err)
				continue
			}
			if strings.Contains(stats, "CROSSSLOT") {
				t.Errorf("node %s answered CROSSSLOT: %s", n.Addr, stats)
			}
			waits += statCalls(stats, "cmdstat_wait")
		}
		if waits == 0 {
			t.Error("no primary ran WAIT: revocations and consumption did not wait for replicas")
		}
	})
	var n atomic.Int64
	wait := storage.ReplicaWait{Replicas: 1, Timeout: 2 * time.Second}
	conformance.RunTests(t, func(t *testing.T) conformance.Fixture {
		return fixtureWaiting(t, &n, redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()}), redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()}),
			func(t *testing.T) redis.UniversalClient { // no node answers
				return redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{deadAddr(t)}, MaxRetries: -1, MaxRedirects: -1, DialerRetries: 1})
			}, wait)
	})
}

// statCalls reads calls=N of an INFO commandstats line.
func statCalls(info, name string) int {
	for line := range strings.SplitSeq(info, "\n") {
		if rest, ok := strings.CutPrefix(line, name+":calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest+",", ',')])
			return n
		}
	}
	return 0
}

// liveGrant creates a grant holding an access and a refresh token.
func liveGrant(t *testing.T, s *storage.Redis) (grantID, access, refresh string) {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	g := storage.Grant{ID: token.NewID(), ClientID: "c1", Scopes: scopes.PluginScopes(), ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	access, refresh = token.New(token.Access, g.ID), token.New(token.Refresh, g.ID)
	tok := storage.Token{ClientID: "c1", Scopes: g.Scopes, ExpiresAt: now.Add(time.Hour)}
	if err := s.IssueTokens(ctx, storage.NewToken{Value: access, Token: tok}, storage.NewToken{Value: refresh, Token: tok}); err != nil {
		t.Fatal(err)
	}
	return g.ID, access, refresh
}

// TestReplicaWait: with a replica in sync a revocation is confirmed and
// already on the replica; a rotation waits too. With the replica gone the
// same revocation is in force but reported unconfirmed, after about the
// wait's timeout, and Replication says replicas are missing.
func TestReplicaWait(t *testing.T) {
	primary, replica := redistest.StartReplicated(t)
	ctx := t.Context()
	pc := redis.NewClient(&redis.Options{Addr: primary.Addr})
	rc := redis.NewClient(&redis.Options{Addr: replica.Addr})
	defer rc.Close()
	wait := storage.ReplicaWait{Replicas: 1, Timeout: 300 * time.Millisecond}
	s := storage.NewRedis(pc, storage.RedisOptions{ReplicaWait: wait})
	defer s.Close()
	onReplica := storage.NewRedis(rc, storage.RedisOptions{})
	if err := s.Replication(ctx); err != nil {
		t.Fatalf("Replication with a replica online: %v", err)
	}

	gid, access, refresh := liveGrant(t, s)
	newRefresh := token.New(token.Refresh, gid)
	if err := s.RotateRefresh(ctx, refresh, storage.NewToken{Value: newRefresh, Token: storage.Token{ClientID: "c1", Scopes: scopes.PluginScopes(), ExpiresAt: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	rev, err := s.RevokeGrant(ctx, gid)
	if err != nil || rev.Grants != 1 || rev.Unconfirmed {
		t.Fatalf("RevokeGrant with a replica: %+v, %v; want 1 grant, confirmed", rev, err)
	}
	// Confirmed means the replica has it: read it there, no polling.
	if _, _, err := onReplica.LookupToken(ctx, access); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("confirmed revocation not on the replica: lookup there gives %v", err)
	}
	if g, err := onReplica.GetGrant(ctx, gid); err != nil || !g.Revoked {
		t.Fatalf("replica's grant: %+v, %v", g, err)
	}
	if calls := statCalls(pc.Info(ctx, "commandstats").Val(), "cmdstat_wait"); calls < 2 {
		t.Fatalf("primary ran WAIT %d times, want one for the rotation and one for the revocation", calls)
	}

	replica.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Contains(pc.Info(ctx, "replication").Val(), "connected_slaves:1") {
		if time.Now().After(deadline) {
			t.Fatal("primary still counts the killed replica")
		}
		time.Sleep(10 * time.Millisecond) // bounded polling
	}
	if err := s.Replication(ctx); !errors.Is(err, storage.ErrReplicasMissing) {
		t.Fatalf("Replication without a replica: %v", err)
	}
	_, access2, _ := liveGrant(t, s)
	start := time.Now()
	rev, err = s.RevokeToken(ctx, access2)
	if err != nil || rev.Tokens != 1 || !rev.Unconfirmed {
		t.Fatalf("RevokeToken without a replica: %+v, %v; want 1 token, unconfirmed", rev, err)
	}
	if took := time.Since(start); took < wait.Timeout {
		t.Fatalf("unconfirmed after %v, before the wait's timeout %v", took, wait.Timeout)
	}
	if _, _, err := s.LookupToken(ctx, access2); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unconfirmed revocation not in force: %v", err)
	}
	// RevokeClient pipelines; the sum is unconfirmed as well.
	if rev, err := s.RevokeClient(ctx, "c1"); err != nil || !rev.Unconfirmed {
		t.Fatalf("RevokeClient without a replica: %+v, %v", rev, err)
	}

	// A store that does not wait neither waits nor reports.
	plain := storage.NewRedis(redis.NewClient(&redis.Options{Addr: primary.Addr}), storage.RedisOptions{})
	defer plain.Close()
	_, access3, _ := liveGrant(t, plain)
	if rev, err := plain.RevokeToken(ctx, access3); err != nil || rev.Unconfirmed || rev.Tokens != 1 {
		t.Fatalf("RevokeToken without a wait: %+v, %v", rev, err)
	}
	if err := plain.Replication(ctx); err != nil {
		t.Fatalf("Replication without a wait: %v", err)
	}
}

// BenchmarkRevokeReplicaWait reports the cost of waiting for a replica on
// a revocation: RevokeToken of an access token (one script, one write) on a
// primary with one replica on loopback, without and with ReplicaWait.
func BenchmarkRevokeReplicaWait(b *testing.B) {
	primary, _ := redistest.StartReplicated(b)
	ctx := context.Background()
	for _, replicas := range []int{0, 1} {
		b.Run("replicas="+strconv.Itoa(replicas), func(b *testing.B) {
			s := storage.NewRedis(redis.NewClient(&redis.Options{Addr: primary.Addr}),
				storage.RedisOptions{Prefix: "b" + strconv.Itoa(replicas), ReplicaWait: storage.ReplicaWait{Replicas: replicas, Timeout: time.Second}})
			defer s.Close()
			now := time.Now()
			g := storage.Grant{ID: token.NewID(), ClientID: "c1", Scopes: scopes.PluginScopes(), ExpiresAt: now.Add(time.Hour)}
			if err := s.CreateGrant(ctx, g); err != nil {
				b.Fatal(err)
			}
			toks := make([]string, b.N)
			for start := 0; start < b.N; start += 500 {
				var batch []storage.NewToken
				for i := start; i < min(start+500, b.N); i++ {
					toks[i] = token.New(token.Access, g.ID)
					batch = append(batch, storage.NewToken{Value: toks[i], Token: storage.Token{ClientID: "c1", Scopes: g.Scopes, ExpiresAt: now.Add(time.Hour)}})
				}
				if err := s.IssueTokens(ctx, batch...); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				rev, err := s.RevokeToken(ctx, toks[i])
				if err != nil || rev.Tokens != 1 || rev.Unconfirmed {
					b.Fatalf("RevokeToken: %+v, %v", rev, err)
				}
			}
		})
	}
}
