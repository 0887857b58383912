package oauth

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopegate/scopegate/storage"
)

// slowClients is a storage.Clients whose GetClient returns the record
// current when it was called, after the test lets it finish: a read that
// overlaps a change.
type slowClients struct {
	storage.Clients
	reads   atomic.Int32
	status  atomic.Value // storage.Status
	started chan struct{}
	release chan struct{}
}

func (s *slowClients) GetClient(ctx context.Context, id string) (storage.Client, error) {
	c := storage.Client{ID: id, Status: s.status.Load().(storage.Status)}
	if s.reads.Add(1) == 1 {
		close(s.started)
		<-s.release
	}
	return c, nil
}

// TestClientCacheDropsAReadThatRacedAChange: a record read before a change
// but returned after the change's invalidation must not be cached (it
// would be served for a whole TTL).
func TestClientCacheDropsAReadThatRacedAChange(t *testing.T) {
	s := &slowClients{started: make(chan struct{}), release: make(chan struct{})}
	s.status.Store(storage.Active)
	cc := newClientCache(s, time.Hour, time.Now)
	done := make(chan storage.Client)
	go func() {
		c, _ := cc.get(t.Context(), "plg")
		done <- c
	}()
	<-s.started
	s.status.Store(storage.Suspended) // the change is written...
	cc.forget("plg")                  // ...and announced while the read is in flight
	close(s.release)
	if c := <-done; c.Status != storage.Active {
		t.Fatalf("the racing read returned %v, want the old record", c.Status)
	}
	c, err := cc.get(t.Context(), "plg")
	if err != nil || c.Status != storage.Suspended {
		t.Errorf("next get = %v, %v; want the suspended record (the stale read was cached)", c.Status, err)
	}
	if n := s.reads.Load(); n != 2 {
		t.Errorf("store read %d times, want 2", n)
	}
}
