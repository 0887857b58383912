package main

import (
	"strings"
	"testing"
	"time"
)

// series is a run of n samples, every apart, RSS from rss(i).
func series(n int, every time.Duration, rss func(i int) int64) []memSample {
	s := make([]memSample, n)
	for i := range s {
		s[i] = memSample{at: time.Duration(i) * every, rssKB: rss(i), heapInuse: 10 << 20, goroutines: 40,
			redisUsed: int64(1+i) << 20, redisKeys: int64(100 * (1 + i))}
	}
	return s
}

func TestJudgeMemory(t *testing.T) {
	const mb = 1024 // kB
	tests := []struct {
		name       string
		samples    []memSample
		run        time.Duration
		wantOK     bool
		wantFlat   bool
		wantFirst  int64 // highest RSS (kB) of the first window after warm-up
		wantLast   int64
		wantGrowth float64
	}{
		{
			name: "flat, with a high warm-up ignored",
			// 5 minutes every 5 s; 80 MB during the first minute, then 40
			// MB with a 42 MB GC peak in each window.
			samples: series(61, 5*time.Second, func(i int) int64 {
				switch {
				case i < 12:
					return 80 * mb
				case i%7 == 0:
					return 42 * mb
				}
				return 40 * mb
			}),
			run: 5 * time.Minute, wantOK: true, wantFlat: true, wantFirst: 42 * mb, wantLast: 42 * mb,
		},
		{
			name:    "growing by 1 MB a minute",
			samples: series(61, 5*time.Second, func(i int) int64 { return 40*mb + int64(i)*mb/12 }),
			run:     5 * time.Minute, wantOK: true, wantFlat: false,
			// first window 1:00-2:00 (excluded end): sample 23, last 4:00-5:00: sample 60
			wantFirst: 40*mb + 23*mb/12, wantLast: 45 * mb,
		},
		{
			name:    "a short run scales its windows to a fifth",
			samples: series(31, time.Second, func(int) int64 { return 30 * mb }),
			run:     30 * time.Second, wantOK: true, wantFlat: true, wantFirst: 30 * mb, wantLast: 30 * mb,
		},
		{
			name:    "too few samples to judge",
			samples: series(2, 5*time.Second, func(int) int64 { return 30 * mb }),
			run:     5 * time.Second,
		},
		{
			name:    "RSS not readable",
			samples: series(61, 5*time.Second, func(int) int64 { return -1 }),
			run:     5 * time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := judgeMemory(tt.samples, tt.run)
			if v.ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v (%+v)", v.ok, tt.wantOK, v)
			}
			if !tt.wantOK {
				return
			}
			if v.flat != tt.wantFlat || v.first.rssKB != tt.wantFirst || v.last.rssKB != tt.wantLast {
				t.Errorf("flat %v, first %d kB, last %d kB; want %v, %d, %d", v.flat, v.first.rssKB, v.last.rssKB, tt.wantFlat, tt.wantFirst, tt.wantLast)
			}
		})
	}
}

func TestReportMemory(t *testing.T) {
	var b strings.Builder
	reportMemory(&b, series(61, 5*time.Second, func(i int) int64 { return 40*1024 + int64(i)*1024/12 }), 5*time.Minute)
	out := b.String()
	for _, want := range []string{
		"highest per 30s",
		"5:00    45.0     10.0          40      61.0        6100",
		"memory verdict: scopegate RSS highest 41.9 MB in 1:00-2:00 (after warm-up), 45.0 MB in 4:00-5:00: +7.4% (+1.03 MB/min), GROWING (more than +5%)",
		"Redis used_memory 24.0 -> 61.0 MB (+12.3 MB/min), 2400 -> 6100 keys",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	reportMemory(&b, series(2, time.Second, func(int) int64 { return 1 }), time.Second)
	if !strings.Contains(b.String(), "memory verdict: none") {
		t.Errorf("a short run's report: %s", b.String())
	}
}

func TestPromValues(t *testing.T) {
	page := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
go_memstats_heap_inuse_bytes 1.2345678e+07
go_memstats_heap_inuse_bytes_total{x="y"} 9
`
	got := promValues(strings.NewReader(page), "go_memstats_heap_inuse_bytes", "go_goroutines", "absent")
	if want := []int64{12345678, 42, -1}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("promValues = %v, want %v", got, want)
	}
}

func TestClock(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{0, "0:00"}, {1500 * time.Millisecond, "0:01.5"}, {90 * time.Second, "1:30"}, {5*time.Minute + 20*time.Millisecond, "5:00"}} {
		if got := clock(tt.d); got != tt.want {
			t.Errorf("clock(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
