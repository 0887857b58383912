package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ReplicaWait asks the store to wait, after a revocation or the consumption
// of a code or refresh token, until Replicas replicas of the primary that
// took the write have acknowledged it (Redis WAIT), for at most Timeout.
//
// Redis replicates asynchronously: a primary that dies right after
// answering can lose its last writes when a replica is promoted, and a lost
// revocation brings a token back to life. With ReplicaWait a revocation
// answered as confirmed (Revocation.Unconfirmed false) is on Replicas
// replicas as well, and survives the failover of the primary (Sentinel and
// Cluster promote the most up-to-date replica). When fewer acknowledge in
// time the revocation is still in force on the primary and is reported
// Unconfirmed; a consumption is not failed (its tokens are stored), since
// refusing it would burn the client's code or refresh token for nothing.
//
// WAIT must run on the connection that wrote, so the store pipelines the
// script and the WAIT on the primary owning the grant's slot (in Cluster,
// ClusterClient.MasterForKey). The pipeline is read with the client's
// ReadTimeout, which must exceed Timeout (go-redis's default is 3 s).
// Redis 7.0 has no WAITAOF; acknowledgement means "in the replica's memory".
//
// The cost is one replication round trip (sub-millisecond on a LAN) on
// every revocation and every code or refresh exchange, and up to Timeout
// on each of them while replicas are missing.
type ReplicaWait struct {
	// Replicas is how many replicas must acknowledge (0: do not wait).
	Replicas int
	// Timeout bounds each wait (DefaultReplicaWaitTimeout when zero).
	Timeout time.Duration
}

// DefaultReplicaWaitTimeout is ReplicaWait.Timeout when zero.
const DefaultReplicaWaitTimeout = 500 * time.Millisecond

// ErrReplicasMissing is returned by Replication when a primary has fewer
// connected replicas than ReplicaWait asks for.
var ErrReplicasMissing = errors.New("storage: fewer replicas than the replica wait asks for")

func (w ReplicaWait) timeout() time.Duration {
	if w.Timeout <= 0 {
		return DefaultReplicaWaitTimeout
	}
	return w.Timeout
}

// pipeliner is a client whose pipelines run on one connection (a
// *redis.Client: a standalone server, the Sentinel primary, or one Cluster
// node), or the Cluster client itself when there is nothing to wait for.
type pipeliner interface {
	Pipeline() redis.Pipeliner
}

// runDurable runs s once with a, like s.run, on the primary owning its
// first key, and waits for replicas as r.wait asks. confirmed is true when
// no wait is configured or enough replicas acknowledged.
func runDurable[A scriptArgs, R any](ctx context.Context, r *Redis, s script[A, R], a A) (res R, confirmed bool, err error) {
	var v any
	confirmed, err = r.runScriptsDurable(ctx, s.lua, []scriptCall{s.call(a)}, func(_ int, got any) { v = got })
	if err != nil {
		return res, confirmed, err
	}
	res, err = s.result(v)
	return res, confirmed, err
}

// runScriptsDurable is runScripts followed, when the store waits for
// replicas, by a WAIT on every primary that ran a script, on the same
// connection. Calls are grouped by the primary owning their first key;
// groups run concurrently.
func (r *Redis) runScriptsDurable(ctx context.Context, s *redis.Script, calls []scriptCall, got func(int, any)) (confirmed bool, err error) {
	if r.wait.Replicas <= 0 {
		return true, r.runScripts(ctx, s, calls, got)
	}
	groups := map[pipeliner][]int{}
	if cc, ok := r.rdb.(*redis.ClusterClient); ok {
		for i, c := range calls {
			node, err := cc.MasterForKey(ctx, c.keys[0])
			if err != nil {
				return false, err
			}
			groups[node] = append(groups[node], i)
		}
	} else {
		idx := make([]int, len(calls))
		for i := range idx {
			idx[i] = i
		}
		groups[r.rdb] = idx
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	confirmed = true
	for node, idx := range groups {
		wg.Go(func() {
			ok, err := r.runOnNode(ctx, node, s, calls, idx, func(i int, v any) {
				mu.Lock()
				defer mu.Unlock()
				got(i, v)
			})
			mu.Lock()
			defer mu.Unlock()
			confirmed = confirmed && ok
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return confirmed, errors.Join(errs...)
}

// runOnNode runs the calls idx on one node, in pipelines of up to 500
// scripts each ended by a WAIT. A script missing from the node's cache is
// loaded and the missing calls are sent again; a call redirected elsewhere
// (a slot moved since the Cluster client read the slot map) runs through
// the store's client and counts as unconfirmed.
func (r *Redis) runOnNode(ctx context.Context, node pipeliner, s *redis.Script, calls []scriptCall, idx []int, got func(int, any)) (bool, error) {
	confirmed := true
	for start := 0; start < len(idx); start += 500 {
		pending := idx[start:min(start+500, len(idx))]
		for attempt := 0; len(pending) > 0; attempt++ {
			pipe := node.Pipeline()
			cmds := make([]*redis.Cmd, len(pending))
			for j, i := range pending {
				if attempt == 0 {
					cmds[j] = s.EvalSha(ctx, pipe, calls[i].keys, calls[i].args...)
				} else {
					cmds[j] = s.Eval(ctx, pipe, calls[i].keys, calls[i].args...)
				}
			}
			wait := pipe.Do(ctx, "wait", r.wait.Replicas, r.wait.timeout().Milliseconds())
			_, _ = pipe.Exec(ctx) // errors are read per command below
			var again []int
			for j, cmd := range cmds {
				i := pending[j]
				v, err := cmd.Result()
				switch {
				case err != nil && attempt == 0 && redis.HasErrorPrefix(err, "NOSCRIPT"):
					again = append(again, i)
					continue
				case err != nil && (redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK")):
					confirmed = false
					v, err = s.Run(ctx, r.rdb, calls[i].keys, calls[i].args...).Result()
				}
				if err != nil {
					return false, err
				}
				got(i, v)
			}
			if n, err := wait.Int64(); err != nil || n < int64(r.wait.Replicas) {
				confirmed = false
			}
			pending = again
		}
	}
	return confirmed, nil
}

// Replication checks that every primary has at least the replicas
// ReplicaWait asks for connected (INFO replication), for /readyz. It is nil
// when the store does not wait for replicas, ErrUnavailable when Redis does
// not answer, and wraps ErrReplicasMissing when a primary lacks replicas.
func (r *Redis) Replication(ctx context.Context) error {
	if r.wait.Replicas <= 0 {
		return nil
	}
	check := func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return unavailable("replication", err)
		}
		n := -1
		for line := range strings.SplitSeq(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		if n < r.wait.Replicas {
			return fmt.Errorf("%w: %s has %d connected, %d wanted", ErrReplicasMissing, c.Options().Addr, max(n, 0), r.wait.Replicas)
		}
		return nil
	}
	switch c := r.rdb.(type) {
	case *redis.ClusterClient:
		err := c.ForEachMaster(ctx, check)
		if err != nil && !errors.Is(err, ErrReplicasMissing) && !errors.Is(err, ErrUnavailable) {
			return unavailable("replication", err)
		}
		return err
	case *redis.Client:
		return check(ctx, c)
	}
	return nil
}
