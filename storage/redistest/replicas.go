package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// NodeTimeout is the cluster-node-timeout of StartReplicatedCluster and
// the down-after-milliseconds of StartSentinel: a dead primary is replaced
// within a few seconds.
const NodeTimeout = 1000 * time.Millisecond

// Cluster is a running Redis Cluster of three primaries, each with one
// replica.
type Cluster struct {
	// Nodes are the six servers; their roles change with failovers.
	Nodes []*Server
}

// Addrs returns every node's address (each a valid seed).
func (c *Cluster) Addrs() []string { return addrs(c.Nodes) }

func addrs(servers []*Server) []string {
	out := make([]string, len(servers))
	for i, n := range servers {
		out[i] = n.Addr
	}
	return out
}

// StartReplicatedCluster starts a Redis Cluster of three primaries and three
// replicas (redis-cli --cluster create --cluster-replicas 1) with a short
// node timeout, and waits until every slot is served and every replica is
// in sync. Nodes are killed in t.Cleanup.
func StartReplicatedCluster(t testing.TB) *Cluster {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatal(Missing)
	}
	c := &Cluster{}
	for range 6 {
		c.Nodes = append(c.Nodes, Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(int(NodeTimeout.Milliseconds())),
			// A replica may always take over, however long its link was down.
			"--cluster-replica-validity-factor", "0"))
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v: %s", err, out)
	}
	if err := c.WaitHealthy(ctx, nil); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return c
}

// WaitHealthy polls until every live node (not in dead) reports
// cluster_state:ok with all slots served, and every primary that owns slots
// has an in-sync replica when one is alive for it. After a primary was
// killed it thus waits for its replica's promotion.
func (c *Cluster) WaitHealthy(ctx context.Context, dead []*Server) error {
	isDead := map[*Server]bool{}
	for _, d := range dead {
		isDead[d] = true
	}
	return poll(ctx, 20*time.Millisecond, "cluster not healthy", func() error {
		for _, n := range c.Nodes {
			if isDead[n] {
				continue
			}
			if err := nodeHealthy(ctx, n.Addr, len(dead) == 0); err != nil {
				return fmt.Errorf("%s: %w", n.Addr, err)
			}
		}
		return nil
	})
}

// nodeHealthy checks one node: cluster ok and all slots served; a primary
// with slots needs a replica online when wantReplica.
func nodeHealthy(ctx context.Context, addr string, wantReplica bool) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
		return fmt.Errorf("cluster info %q", strings.ReplaceAll(info, "\r\n", " "))
	}
	repl, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	switch {
	case strings.Contains(repl, "role:master"):
		if wantReplica && !strings.Contains(repl, "state=online") {
			return fmt.Errorf("primary without an online replica")
		}
	case !strings.Contains(repl, "master_link_status:up"):
		return fmt.Errorf("replica not in sync")
	}
	return nil
}

// PrimaryFor returns the node currently serving key's slot as primary.
func (c *Cluster) PrimaryFor(ctx context.Context, key string) (*Server, error) {
	for _, n := range c.Nodes {
		select {
		case <-n.done:
			continue
		default:
		}
		rc := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DialerRetries: 1})
		slot, err := rc.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			rc.Close()
			continue
		}
		slots, err := rc.ClusterSlots(ctx).Result()
		rc.Close()
		if err != nil {
			continue
		}
		for _, r := range slots {
			if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 {
				for _, m := range c.Nodes {
					if m.Addr == r.Nodes[0].Addr {
						return m, nil
					}
				}
			}
		}
	}
	return nil, fmt.Errorf("no node serves the slot of %q", key)
}

// StartReplicated starts a primary and a replica of it (--replicaof) and
// waits until the primary reports the replica online. Both are killed in
// t.Cleanup.
func StartReplicated(t testing.TB) (primary, replica *Server) {
	t.Helper()
	primary = Start(t)
	host, port, _ := strings.Cut(primary.Addr, ":")
	replica = Start(t, "--replicaof", host, port)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := poll(ctx, 10*time.Millisecond, "replica did not come online", func() error { return nodeReplicated(ctx, primary.Addr) }); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return primary, replica
}

// Sentinel is one primary, one replica and three sentinels monitoring them
// under MasterName.
type Sentinel struct {
	MasterName string
	Primary    *Server
	Replica    *Server
	Sentinels  []*Server
}

// SentinelAddrs returns the three sentinels' addresses.
func (s *Sentinel) SentinelAddrs() []string { return addrs(s.Sentinels) }

// StartSentinel starts a primary, a replica of it, and three sentinels
// (redis-server --sentinel) with a quorum of two and down-after of
// NodeTimeout; it waits until the replica is in sync and every sentinel
// knows the replica and the other sentinels.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(Missing)
	}
	s := &Sentinel{MasterName: "sgmain"}
	s.Primary, s.Replica = StartReplicated(t)
	host, port, _ := strings.Cut(s.Primary.Addr, ":")
	for range 3 {
		var lastErr error
		for range 3 {
			n, err := startSentinel(bin, t.TempDir(), s.MasterName, host, port)
			if err == nil {
				t.Cleanup(n.Kill)
				s.Sentinels = append(s.Sentinels, n)
				lastErr = nil
				break
			}
			lastErr = err
		}
		if lastErr != nil {
			t.Fatalf("redistest: sentinel: %v", lastErr)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := s.WaitReady(ctx); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return s
}

func startSentinel(bin, dir, name, host, port string) (*Server, error) {
	p, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"+
		"sentinel monitor %s %s %s 2\nsentinel down-after-milliseconds %s %d\n"+
		"sentinel failover-timeout %s 10000\nsentinel parallel-syncs %s 1\n",
		p, dir, filepath.Join(dir, "redis.log"), name, host, port, name, NodeTimeout.Milliseconds(), name, name)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), Dir: dir, bin: bin, args: []string{conf, "--sentinel"}}
	if err := s.run(); err != nil {
		return nil, err
	}
	return s, nil
}

// WaitReady polls until the current primary (as the sentinels report it)
// has an online replica and every sentinel sees one replica and two other
// sentinels, so that a failover can happen.
func (s *Sentinel) WaitReady(ctx context.Context) error {
	return poll(ctx, 20*time.Millisecond, "sentinel setup not ready", func() error {
		for _, n := range s.Sentinels {
			sc := redis.NewSentinelClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DialerRetries: 1})
			m, err := sc.Master(ctx, s.MasterName).Result()
			sc.Close()
			if err != nil {
				return err
			}
			if m["num-slaves"] != "1" || m["num-other-sentinels"] != "2" || strings.Contains(m["flags"], "down") {
				return fmt.Errorf("sentinel %s: %v", n.Addr, m)
			}
		}
		p, err := s.CurrentPrimary(ctx)
		if err != nil {
			return err
		}
		return nodeReplicated(ctx, p)
	})
}

// nodeReplicated checks that the primary at addr has an online replica.
func nodeReplicated(ctx context.Context, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	repl, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if !strings.Contains(repl, "role:master") || !strings.Contains(repl, "state=online") {
		return fmt.Errorf("%s: no online replica", addr)
	}
	return nil
}

// CurrentPrimary asks a live sentinel for the primary's address.
func (s *Sentinel) CurrentPrimary(ctx context.Context) (string, error) {
	var lastErr error
	for _, n := range s.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DialerRetries: 1})
		a, err := sc.GetMasterAddrByName(ctx, s.MasterName).Result()
		sc.Close()
		if err == nil && len(a) == 2 {
			return a[0] + ":" + a[1], nil
		}
		lastErr = err
	}
	return "", fmt.Errorf("no sentinel names a primary: %v", lastErr)
}

// WaitPrimaryIs polls until a replica at addr has been promoted: it reports
// role:master and the sentinels name it.
func (s *Sentinel) WaitPrimaryIs(ctx context.Context, addr string) error {
	var last string
	for {
		cur, err := s.CurrentPrimary(ctx)
		if err == nil && cur == addr {
			c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
			role, err := c.Info(ctx, "replication").Result()
			c.Close()
			if err == nil && strings.Contains(role, "role:master") {
				return nil
			}
		}
		last = fmt.Sprintf("sentinels name %q (%v)", cur, err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not promoted: %s", addr, last)
		case <-time.After(20 * time.Millisecond): // bounded polling
		}
	}
}
