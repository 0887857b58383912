package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// mixed drives client-credentials issuance, introspection and revocation
// together for o.mixed on the first connection count, then checks that
// every token it revoked introspects inactive. Any error, or any revoked
// token still active, fails the run.
func mixed(ctx context.Context, e *env, o options, out io.Writer) error {
	conns := o.conns[0]
	fmt.Fprintf(out, "\nloadtest: mixed run: issue 3 : introspect 6 : revoke 1 on %d connections for %v\n", conns, o.mixed)
	hc := httpc(conns, nil)
	defer hc.CloseIdleConnections()
	// Its own plugins and resource server, so the run stands alone.
	p, err := provisionClients(ctx, e, "Mixed")
	if err != nil {
		return err
	}
	rsAuth := basicAuth(p.rs)
	ccForm := []byte(url.Values{"grant_type": {"client_credentials"}, "scope": {ccScope}}.Encode())
	const maxRevoked = 2_000_000 // bounds memory; more are revoked but not rechecked
	type live struct {
		tok string
		at  time.Time
	}
	var (
		mu                          sync.Mutex
		revoked                     []string
		errCount, activeAfterRevoke atomic.Int64
		ops                         atomic.Int64
	)
	start := time.Now()
	deadline := start.Add(o.mixed)
	mem := newMemSampler(e, start)
	defer mem.hc.CloseIdleConnections()
	stopSampling := make(chan struct{})
	sampled := make(chan []memSample, 1)
	go func() { sampled <- mem.run(ctx, o.memEvery, stopSampling) }()
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			c := &caller{hc: hc}
			auth := basicAuth(p.plugins[w%len(p.plugins)])
			var mine []live // this worker's live tokens, oldest first
			introspect := func(tok string) (active, ok bool) {
				st, body, err := c.post(ctx, e.sgURL+"/oauth/introspect", rsAuth, []byte("token="+tok))
				if err != nil || st != 200 {
					return false, false
				}
				return bytes.HasPrefix(body, []byte(`{"active":true`)), bytes.HasPrefix(body, []byte(`{"active":`))
			}
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				ops.Add(1)
				// Tokens near their 1 h lifetime would turn inactive on
				// their own: forget them.
				for len(mine) > 0 && time.Since(mine[0].at) > 50*time.Minute {
					mine = mine[1:]
				}
				switch op := i % 10; {
				case op < 3 || len(mine) == 0:
					st, body, err := c.post(ctx, e.sgURL+"/oauth/token", auth, ccForm)
					at, ok := field(body, "access_token")
					if err != nil || st != 200 || !ok {
						errCount.Add(1)
						continue
					}
					if len(mine) >= 1000 {
						mine = mine[1:]
					}
					mine = append(mine, live{at, time.Now()})
				case op < 9:
					active, ok := introspect(mine[i%len(mine)].tok)
					if !ok || !active {
						errCount.Add(1) // a live, unrevoked token must be active
					}
				default:
					k := i % len(mine)
					tok := mine[k].tok
					mine = append(mine[:k], mine[k+1:]...)
					st, _, err := c.post(ctx, e.sgURL+"/oauth/revoke", auth, []byte("token="+tok))
					if err != nil || st != 200 {
						errCount.Add(1)
						continue
					}
					if active, ok := introspect(tok); !ok {
						errCount.Add(1)
					} else if active {
						activeAfterRevoke.Add(1)
					}
					mu.Lock()
					if len(revoked) < maxRevoked {
						revoked = append(revoked, tok)
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	close(stopSampling)
	samples := append(<-sampled, mem.sample(ctx))
	// Every revoked token, once more, at the end.
	_, err = parallel(ctx, len(revoked), conns, func(i int) (struct{}, error) {
		c := &caller{hc: hc}
		st, body, err := c.post(ctx, e.sgURL+"/oauth/introspect", rsAuth, []byte("token="+revoked[i]))
		switch {
		case err != nil || st != 200:
			errCount.Add(1)
		case bytes.HasPrefix(body, []byte(`{"active":true`)):
			activeAfterRevoke.Add(1)
		}
		return struct{}{}, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "loadtest: mixed: %d requests in %v (%.0f/s), %d tokens revoked and rechecked\n",
		ops.Load(), took.Round(time.Second), float64(ops.Load())/took.Seconds(), len(revoked))
	reportMemory(out, samples, o.mixed)
	fmt.Fprintf(out, "%d errors, %d active-after-revoke\n", errCount.Load(), activeAfterRevoke.Load())
	if errCount.Load() != 0 || activeAfterRevoke.Load() != 0 {
		return fmt.Errorf("mixed run failed: %d errors, %d revoked tokens still active", errCount.Load(), activeAfterRevoke.Load())
	}
	return nil
}
