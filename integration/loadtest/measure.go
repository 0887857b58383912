package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var allScenarios = []string{"introspect", "client_credentials", "code", "refresh", "revoke"}

func known(s string) bool { return slices.Contains(allScenarios, s) }

// maxSamples bounds the latencies kept per run (memory), across workers.
const maxSamples = 4 << 20

// caller sends one kind of request on a shared keep-alive client.
type caller struct {
	hc  *http.Client
	buf bytes.Buffer
}

// post sends form to u with the Authorization header auth ("" for none)
// and returns the status and body (valid until the next call).
func (c *caller) post(ctx context.Context, u, auth string, form []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(form))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	c.buf.Reset()
	_, err = c.buf.ReadFrom(io.LimitReader(res.Body, 1<<16))
	res.Body.Close()
	return res.StatusCode, c.buf.Bytes(), err
}

func basicAuth(c client) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ID)+":"+url.QueryEscape(c.Secret)))
}

// work is one worker's request: it reports whether the answer was right,
// or done when there is nothing left to send (codes or tokens ran out).
type work func(ctx context.Context, c *caller) (ok, done bool)

// result is one measured run.
type result struct {
	scenario string
	conns    int
	n        int // requests in the window
	errors   int
	window   time.Duration // measured time (shorter than asked when work ran out)
	rps      float64
	p50, p99 time.Duration
}

// load runs newWork's workers on conns keep-alive connections: warm-up,
// then the measured window, which ends early if any worker runs out of
// work. Only requests that started after the warm-up and ended within the
// window count.
func load(ctx context.Context, name string, conns int, warmup, dur time.Duration, newWork func(w int) work) result {
	hc := httpc(conns, nil)
	defer hc.CloseIdleConnections()
	start := time.Now()
	measureFrom := start.Add(warmup)
	deadline := measureFrom.Add(dur)
	var ranOut atomic.Int64 // unix nanos when work ran out, 0 if never
	var stop atomic.Bool
	type acc struct {
		lat    []time.Duration
		errors int
	}
	accs := make([]acc, conns)
	var wg sync.WaitGroup
	for w := range conns {
		wg.Go(func() {
			do := newWork(w)
			c := &caller{hc: hc}
			a := &accs[w]
			a.lat = make([]time.Duration, 0, 4096)
			for !stop.Load() {
				t0 := time.Now()
				if t0.After(deadline) {
					return
				}
				ok, done := do(ctx, c)
				t1 := time.Now()
				if done {
					ranOut.CompareAndSwap(0, t1.UnixNano())
					stop.Store(true)
					return
				}
				if t0.Before(measureFrom) {
					continue
				}
				if ro := ranOut.Load(); t1.After(deadline) || (ro != 0 && t1.UnixNano() > ro) {
					continue
				}
				if !ok {
					a.errors++
				}
				if len(a.lat) < maxSamples/conns {
					a.lat = append(a.lat, t1.Sub(t0))
				}
				if ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	end := deadline
	if ro := ranOut.Load(); ro != 0 && time.Unix(0, ro).Before(end) {
		end = time.Unix(0, ro)
	}
	r := result{scenario: name, conns: conns, window: max(0, end.Sub(measureFrom))}
	var all []time.Duration
	for _, a := range accs {
		all = append(all, a.lat...)
		r.errors += a.errors
	}
	r.n = len(all)
	if r.window > 0 {
		r.rps = float64(r.n) / r.window.Seconds()
	}
	if len(all) > 0 {
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		r.p50 = all[len(all)*50/100]
		r.p99 = all[min(len(all)-1, len(all)*99/100)]
	}
	return r
}

// measure runs the floor and every scenario, interleaved, reps times at
// each connection count, and returns every run.
func measure(ctx context.Context, e *env, p *provisioned, o options, out io.Writer) ([]result, error) {
	rsAuth := basicAuth(p.rs)
	plugAuth := make([]string, len(p.plugins))
	for i, c := range p.plugins {
		plugAuth[i] = basicAuth(c)
	}
	forms := make([][]byte, len(p.introspect))
	for i, t := range p.introspect {
		forms[i] = []byte("token=" + t)
	}
	ccForm := []byte(url.Values{"grant_type": {"client_credentials"}, "scope": {ccScope}}.Encode())
	runs := o.reps * len(o.conns)
	codeChunk, revokeChunk := len(p.codes)/runs, len(p.revoke)/runs
	run := 0
	var results []result
	for rep := range o.reps {
		for _, conns := range o.conns {
			codes := p.codes[run*codeChunk : (run+1)*codeChunk]
			revokes := p.revoke[run*revokeChunk : (run+1)*revokeChunk]
			run++
			var nextCode, nextRevoke atomic.Int64
			scen := map[string]func(w int) work{
				"floor": func(w int) work {
					i := w
					return func(ctx context.Context, c *caller) (bool, bool) {
						i += conns
						st, body, err := c.post(ctx, e.floorURL+"/floor", "", forms[i%len(forms)])
						return err == nil && st == 200 && bytes.HasPrefix(body, []byte(`{"active":true`)), false
					}
				},
				"introspect": func(w int) work {
					i := w
					return func(ctx context.Context, c *caller) (bool, bool) {
						i += conns
						st, body, err := c.post(ctx, e.sgURL+"/oauth/introspect", rsAuth, forms[i%len(forms)])
						return err == nil && st == 200 && bytes.HasPrefix(body, []byte(`{"active":true`)), false
					}
				},
				"client_credentials": func(w int) work {
					auth := plugAuth[w%len(plugAuth)]
					return func(ctx context.Context, c *caller) (bool, bool) {
						st, body, err := c.post(ctx, e.sgURL+"/oauth/token", auth, ccForm)
						return err == nil && st == 200 && bytes.Contains(body, []byte(`"access_token":"sga_`)), false
					}
				},
				"code": func(w int) work {
					return func(ctx context.Context, c *caller) (bool, bool) {
						i := int(nextCode.Add(1) - 1)
						if i >= len(codes) {
							return false, true
						}
						pc := codes[i]
						form := []byte(url.Values{"grant_type": {"authorization_code"}, "code": {pc.code},
							"redirect_uri": {redirectURI}, "code_verifier": {pc.verifier}}.Encode())
						st, body, err := c.post(ctx, e.sgURL+"/oauth/token", plugAuth[pc.plugin], form)
						return err == nil && st == 200 && bytes.Contains(body, []byte(`"refresh_token":"sgr_`)), false
					}
				},
				"refresh": func(w int) work {
					k := 0
					return func(ctx context.Context, c *caller) (bool, bool) {
						// Worker w owns chains 4w..4w+3 and takes them in turn.
						ch := &p.chains[(4*w+k%4)%len(p.chains)]
						k++
						form := []byte("grant_type=refresh_token&refresh_token=" + ch.refresh)
						st, body, err := c.post(ctx, e.sgURL+"/oauth/token", plugAuth[ch.plugin], form)
						if err != nil || st != 200 {
							return false, false
						}
						rt, ok := field(body, "refresh_token")
						if ok {
							ch.refresh = rt
						}
						return ok, false
					}
				},
				"revoke": func(w int) work {
					return func(ctx context.Context, c *caller) (bool, bool) {
						i := int(nextRevoke.Add(1) - 1)
						if i >= len(revokes) {
							return false, true
						}
						t := revokes[i]
						st, _, err := c.post(ctx, e.sgURL+"/oauth/revoke", plugAuth[t.plugin], []byte("token="+t.token))
						return err == nil && st == 200, false
					}
				},
			}
			for _, name := range append([]string{"floor"}, o.scenarios...) {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				warm := o.warmup
				if name == "code" || name == "revoke" {
					warm = min(warm, 200*time.Millisecond) // spend the codes and tokens on the measurement
				}
				r := load(ctx, name, conns, warm, o.duration, scen[name])
				fmt.Fprintf(out, "  rep %d  %-18s %3d conns  %8.0f req/s  p50 %-9v p99 %-9v errors %d%s\n", rep+1, name, conns,
					r.rps, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.errors, shortNote(r, o))
				results = append(results, r)
			}
		}
	}
	return results, nil
}

// field extracts a JSON string field of a flat object without decoding it.
func field(body []byte, name string) (string, bool) {
	key := []byte(`"` + name + `":"`)
	i := bytes.Index(body, key)
	if i < 0 {
		return "", false
	}
	rest := body[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j <= 0 {
		return "", false
	}
	return string(rest[:j]), true
}

func shortNote(r result, o options) string {
	if r.window < o.duration*9/10 {
		return fmt.Sprintf("  (work ran out: %.1fs measured)", r.window.Seconds())
	}
	return ""
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// printTable prints one row per scenario and connection count: medians of
// the repetitions, and the ratio to the floor's medians at the same
// connection count.
func printTable(out io.Writer, o options, results []result) {
	type key struct {
		s string
		c int
	}
	type agg struct {
		rps, p50, p99 []float64
		errors        int
		minWindow     time.Duration
	}
	m := map[key]*agg{}
	for _, r := range results {
		k := key{r.scenario, r.conns}
		a := m[k]
		if a == nil {
			a = &agg{minWindow: r.window}
			m[k] = a
		}
		a.rps = append(a.rps, r.rps)
		a.p50 = append(a.p50, float64(r.p50))
		a.p99 = append(a.p99, float64(r.p99))
		a.errors += r.errors
		a.minWindow = min(a.minWindow, r.window)
	}
	ms := func(ns float64) string { return fmt.Sprintf("%.2f ms", ns/1e6) }
	fmt.Fprintf(out, "\nmedians of %d runs of %v each (after %v warm-up, at most 200ms for code and revoke), floor and scenarios interleaved:\n\n", o.reps, o.duration, o.warmup)
	fmt.Fprintln(out, "| scenario | conns | req/s | p50 | p99 | p99/p50 | errors | ÷ floor (req/s) | p99 ÷ floor p99 |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, name := range append([]string{"floor"}, o.scenarios...) {
		for _, c := range o.conns {
			a, f := m[key{name, c}], m[key{"floor", c}]
			if a == nil || f == nil {
				continue
			}
			rps, p50, p99 := median(a.rps), median(a.p50), median(a.p99)
			errs := fmt.Sprint(a.errors)
			if a.errors > 0 {
				errs += " (does not count)"
			}
			note := ""
			switch {
			case a.minWindow <= 0:
				note = " (nothing left to measure after the warm-up: raise -codes or -revokes)"
			case a.minWindow < o.duration*9/10:
				note = fmt.Sprintf(" (ran out of work: ≥ %.1fs measured)", a.minWindow.Seconds())
			}
			ratio, p99r := "", ""
			if name != "floor" {
				ratio = fmt.Sprintf("%.2f", rps/median(f.rps))
				p99r = fmt.Sprintf("%.2f", p99/median(f.p99))
			}
			fmt.Fprintf(out, "| %s%s | %d | %.0f | %s | %s | %.1f | %s | %s | %s |\n", name, note, c, rps, ms(p50), ms(p99), p99/max(p50, 1), errs, ratio, p99r)
		}
	}
	fmt.Fprintln(out, strings.Repeat("-", 20))
}
