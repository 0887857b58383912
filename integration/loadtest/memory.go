package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"text/tabwriter"
	"time"
)

// Memory over the mixed run (issue 8: "RSS flat over a 5-minute run").
// Every few seconds the tool reads scopegate's resident set (VmRSS in
// /proc/PID/status), its Go heap in use and goroutines (/metrics), and
// Redis's used_memory and key count. It prints a short series and a
// verdict: the highest RSS in the last window against the highest in the
// first window after warm-up, each window a minute (a fifth of shorter
// runs), the first window being the warm-up. A figure, not pass/fail: the
// exit status still depends only on errors. Redis is expected to grow:
// every issued token lives its full hour there.

// memSample is one reading, at a time since the start of the run; -1 is
// a value that could not be read.
type memSample struct {
	at         time.Duration
	rssKB      int64
	heapInuse  int64 // bytes, go_memstats_heap_inuse_bytes
	goroutines int64
	redisUsed  int64 // bytes, INFO memory used_memory
	redisKeys  int64 // DBSIZE
}

// sampleEvery is the sampling interval for a run of length d: about 60
// samples, from 100 ms to 5 s apart.
func sampleEvery(d time.Duration) time.Duration {
	return min(max(d/60, 100*time.Millisecond), 5*time.Second)
}

// memSampler reads the memory figures of one environment.
type memSampler struct {
	e     *env
	hc    *http.Client // one connection, apart from the load's
	start time.Time
}

func newMemSampler(e *env, start time.Time) *memSampler {
	return &memSampler{e: e, hc: httpc(1, nil), start: start}
}

// run samples every interval until stop is closed, then returns what it
// read.
func (m *memSampler) run(ctx context.Context, every time.Duration, stop <-chan struct{}) []memSample {
	t := time.NewTicker(every)
	defer t.Stop()
	samples := []memSample{m.sample(ctx)}
	for {
		select {
		case <-stop:
			return samples
		case <-ctx.Done():
			return samples
		case <-t.C:
			samples = append(samples, m.sample(ctx))
		}
	}
}

// sample reads every figure once; each read is bounded to 2 s.
func (m *memSampler) sample(ctx context.Context) memSample {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s := memSample{at: time.Since(m.start), rssKB: -1, heapInuse: -1, goroutines: -1, redisUsed: -1, redisKeys: -1}
	if kb := rssKB(m.e.sg); kb > 0 {
		s.rssKB = kb
	}
	if got := m.metrics(ctx, "go_memstats_heap_inuse_bytes", "go_goroutines"); got != nil {
		s.heapInuse, s.goroutines = got[0], got[1]
	}
	if n := usedMemory(ctx, m.e); n > 0 {
		s.redisUsed = n
	}
	if n, err := m.e.rdb.DBSize(ctx).Result(); err == nil {
		s.redisKeys = n
	}
	return s
}

// metrics reads unlabelled gauges from scopegate's /metrics (-1 for one
// not there), or nil when the page cannot be read.
func (m *memSampler) metrics(ctx context.Context, names ...string) []int64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.e.sgURL+"/metrics", nil)
	if err != nil {
		return nil
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	return promValues(io.LimitReader(resp.Body, 4<<20), names...)
}

// promValues finds each name's value in Prometheus text format.
func promValues(r io.Reader, names ...string) []int64 {
	out := make([]int64, len(names))
	for i := range out {
		out[i] = -1
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Bytes()
		for i, n := range names {
			if rest, ok := bytes.CutPrefix(line, []byte(n+" ")); ok {
				if f, err := strconv.ParseFloat(string(bytes.TrimSpace(rest)), 64); err == nil {
					out[i] = int64(f)
				}
			}
		}
	}
	return out
}

// memWindow is the highest of each figure over a span of the run, and the
// last Redis reading in it (memory and keys of the same moment).
type memWindow struct {
	from, to                     time.Duration
	rssKB, heapInuse, goroutines int64
	redisUsed, redisKeys         int64
	n                            int // samples in the window
}

// window summarizes the samples at or after from and before to; the last
// window of a run (last set) also takes those at or after to, the reading
// when the load stopped.
func window(samples []memSample, from, to time.Duration, last bool) memWindow {
	w := memWindow{from: from, to: to, rssKB: -1, heapInuse: -1, goroutines: -1, redisUsed: -1, redisKeys: -1}
	for _, s := range samples {
		if s.at < from || (s.at >= to && !last) {
			continue
		}
		w.n++
		w.rssKB = max(w.rssKB, s.rssKB)
		w.heapInuse = max(w.heapInuse, s.heapInuse)
		w.goroutines = max(w.goroutines, s.goroutines)
		if s.redisUsed >= 0 && s.redisKeys >= 0 {
			w.redisUsed, w.redisKeys = s.redisUsed, s.redisKeys
		}
	}
	return w
}

// flatRSS is how much the last window's highest RSS may exceed the first
// window's and still be called flat: a leak of 1 MB a minute on 40 MB
// shows as +7% over the three minutes between the windows of a 5-minute
// run.
const flatRSS = 0.05

// memVerdict compares the first window after warm-up with the last one.
// ok is false when the run is too short to have samples in both.
type memVerdict struct {
	first, last memWindow
	growth      float64 // of the highest RSS, last vs first
	flat        bool
	ok          bool
}

func judgeMemory(samples []memSample, run time.Duration) memVerdict {
	w := min(time.Minute, run/5)
	v := memVerdict{first: window(samples, w, 2*w, false), last: window(samples, run-w, run, true)}
	if w <= 0 || v.first.n == 0 || v.last.n == 0 || v.first.rssKB <= 0 || v.last.rssKB <= 0 {
		return v
	}
	v.ok = true
	v.growth = float64(v.last.rssKB-v.first.rssKB) / float64(v.first.rssKB)
	v.flat = v.growth <= flatRSS
	return v
}

// reportMemory prints the series (the highest figures of about ten equal
// spans), the verdict and Redis's growth.
func reportMemory(out io.Writer, samples []memSample, run time.Duration) {
	if len(samples) == 0 {
		return
	}
	span := max((run / 10).Round(time.Second), time.Second)
	fmt.Fprintf(out, "loadtest: memory, highest per %v (RSS: scopegate VmRSS; heap, goroutines: its /metrics; Redis: used_memory, DBSIZE):\n", span)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "up to\tRSS MB\theap MB\tgoroutines\tRedis MB\tRedis keys\t")
	for from := time.Duration(0); from < run; from += span {
		to := min(from+span, run)
		w := window(samples, from, to, to >= run)
		if w.n == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", clock(to), mb(w.rssKB<<10), mb(w.heapInuse), count(w.goroutines), mb(w.redisUsed), count(w.redisKeys))
	}
	tw.Flush()
	v := judgeMemory(samples, run)
	if !v.ok {
		fmt.Fprintf(out, "loadtest: memory verdict: none (the run is too short for a warm-up window and two windows to compare)\n")
		return
	}
	word := "flat"
	if !v.flat {
		word = fmt.Sprintf("GROWING (more than +%.0f%%)", flatRSS*100)
	}
	fmt.Fprintf(out, "loadtest: memory verdict: scopegate RSS highest %s MB in %s-%s (after warm-up), %s MB in %s-%s: %+.1f%% (%+.2f MB/min), %s; heap in use %s -> %s MB, goroutines %s -> %s\n",
		mb(v.first.rssKB<<10), clock(v.first.from), clock(v.first.to), mb(v.last.rssKB<<10), clock(v.last.from), clock(v.last.to),
		v.growth*100, float64(v.last.rssKB-v.first.rssKB)/1024/(v.last.to-v.first.to).Minutes(), word, mb(v.first.heapInuse), mb(v.last.heapInuse), count(v.first.goroutines), count(v.last.goroutines))
	if f, l := v.first, v.last; f.redisUsed > 0 && l.redisUsed > 0 && l.to > f.to {
		mins := (l.to - f.to).Minutes()
		fmt.Fprintf(out, "loadtest: Redis used_memory %s -> %s MB (%+.1f MB/min), %d -> %d keys (issued tokens live their hour there)\n",
			mb(f.redisUsed), mb(l.redisUsed), float64(l.redisUsed-f.redisUsed)/(1<<20)/mins, f.redisKeys, l.redisKeys)
	}
}

// mb is a byte count in MB with one decimal, "?" when unknown.
func mb(b int64) string {
	if b < 0 {
		return "?"
	}
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64)
}

func count(n int64) string {
	if n < 0 {
		return "?"
	}
	return strconv.FormatInt(n, 10)
}

// clock is a time into the run as m:ss, with tenths when not whole
// seconds.
func clock(d time.Duration) string {
	d = d.Round(100 * time.Millisecond)
	c := fmt.Sprintf("%d:%02d", int(d/time.Minute), int(d%time.Minute/time.Second))
	if t := d % time.Second / (100 * time.Millisecond); t != 0 {
		c += "." + strconv.Itoa(int(t))
	}
	return c
}
