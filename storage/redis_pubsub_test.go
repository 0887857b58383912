package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/redistest"
	"github.com/scopegate/scopegate/storage/token"
)

// TestClientChangesArePublished subscribes one store and changes clients
// through another on the same real Redis: every write of a client record
// is announced with its ID, and a lost subscription, once go-redis has
// re-established it, is announced as "" (forget everything).
func TestClientChangesArePublished(t *testing.T) {
	single := func(opts *redis.Options) func() redis.UniversalClient {
		return func() redis.UniversalClient { o := *opts; return redis.NewClient(&o) }
	}
	t.Run("redis-server", func(t *testing.T) {
		testClientChanges(t, single(&redis.Options{Addr: redistest.StartServer(t)}), true)
	})
	// Classic PUBLISH, even inside a MULTI on one node, reaches a
	// subscriber connected to another.
	t.Run("cluster", func(t *testing.T) {
		addrs := redistest.StartCluster(t)
		testClientChanges(t, func() redis.UniversalClient { return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs}) }, true)
	})
	// miniredis has no CLIENT KILL: only the announcements are checked.
	t.Run("embedded", func(t *testing.T) {
		rdb, _ := startEmbedded(t)
		testClientChanges(t, single(optionsOf(rdb)), false) // no address: its dialer
	})
}

func testClientChanges(t *testing.T, newClient func() redis.UniversalClient, cut bool) {
	ctx := t.Context()
	newStore := func() (*storage.Redis, redis.UniversalClient) {
		rdb := newClient()
		s := storage.NewRedis(rdb, storage.RedisOptions{})
		t.Cleanup(func() { _ = s.Close() })
		return s, rdb
	}
	sub, _ := newStore()
	pub, rdb := newStore()
	got := make(chan string, 16)
	stop, err := sub.SubscribeClientChanges(ctx, func(id string) { got <- id })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	want := func(what, id string) {
		t.Helper()
		select {
		case g := <-got:
			if g != id {
				t.Errorf("%s: announced %q, want %q", what, g, id)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: nothing announced within 5 s", what)
		}
	}

	c := storage.Client{ID: "plg", Name: "P", Type: storage.Confidential, Role: storage.RolePlugin, Status: storage.Active}
	if err := pub.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	want("CreateClient", "plg")
	if _, err := pub.UpdateClient(ctx, "plg", func(c storage.Client) (storage.Client, error) {
		c.Status = storage.Suspended
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	want("UpdateClient", "plg")
	rv := storage.Review{ID: token.NewID(), ClientID: "plg", FiledBy: "client", CreatedAt: time.Now(),
		Lines: []storage.ReviewLine{{Scope: "plugin:subscription:bill:read", Justification: "bills", Status: storage.LinePending}}}
	if err := pub.CreateReview(ctx, rv); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pub.DecideLine(ctx, rv.ID, 0, true, "admin:x", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	want("DecideLine (approved)", "plg")
	if err := pub.DeleteClient(ctx, "plg"); err != nil {
		t.Fatal(err)
	}
	want("DeleteClient", "plg")

	if !cut {
		return
	}
	// Cut the subscriber's connection: go-redis reconnects, re-subscribes,
	// and the store says to forget everything.
	kill := func(ctx context.Context, c *redis.Client) error {
		return c.ClientKillByFilter(ctx, "TYPE", "pubsub").Err()
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachShard(ctx, kill)
	} else {
		err = kill(ctx, rdb.(*redis.Client))
	}
	if err != nil {
		t.Fatal(err)
	}
	want("re-subscription", "")
}
