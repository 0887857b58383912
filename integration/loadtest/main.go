// Command loadtest measures scopegate's hot paths against a floor, side by
// side, on this machine. It starts its own redis-server (a free loopback
// port), the real `scopegate serve` binary and a floor server (a copy of
// this program: read a form value, one go-redis GET, a small JSON reply),
// provisions clients, codes and tokens through the admin API and the OAuth
// endpoints, then drives each scenario with a fixed number of keep-alive
// connections for a fixed time after a warm-up, several times, and prints
// one table. A figure counts only with zero errors (rows with errors are
// marked). Every process it starts is stopped when it exits.
//
//	go run ./integration/loadtest                     # what `make bench` runs
//	go run ./integration/loadtest -duration 8s -reps 3 -mixed 5m   # `make loadtest`
//
// With -mixed, it then drives a mix of client-credentials issuance,
// introspection and revocation for that long and checks that every revoked
// token introspects inactive; it exits non-zero on any error or any
// revoked token still active. Meanwhile it samples scopegate's RSS and Go
// heap and Redis's used_memory, and prints the series and whether RSS
// stayed flat (memory.go; a figure, not pass/fail).
//
// All traffic goes to 127.0.0.1. Every loop is bounded in count and time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"
)

type options struct {
	duration, warmup, mixed, memEvery time.Duration
	reps                              int
	conns                             []int
	scenarios                         []string
	bin                               string
	codes, revokes                    int
	floorServe                        bool
	floorRedis, floorAddr             string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", 2*time.Second, "measured `time` of each scenario run")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "warm-up `time` before each measured run")
	fs.IntVar(&o.reps, "reps", 2, "repetitions of every scenario (medians are reported)")
	conns := fs.String("conns", "16,64", "keep-alive `connections`, comma-separated")
	scen := fs.String("scenarios", strings.Join(allScenarios, ","), "scenarios to run, comma-separated")
	fs.DurationVar(&o.mixed, "mixed", 0, "then run the mixed issue/introspect/revoke check for this `long` (0: skip)")
	fs.DurationVar(&o.memEvery, "mem-every", 0, "with -mixed, sample memory every `interval` (0: about 60 samples, 100ms to 5s apart)")
	fs.StringVar(&o.bin, "bin", "", "scopegate `binary` to measure (default: build ./cmd/scopegate)")
	fs.IntVar(&o.codes, "codes", 12000, "authorization codes to provision for the code scenario (it stops early when they run out)")
	fs.IntVar(&o.revokes, "revokes", 20000, "access tokens to provision for the revoke scenario (it stops early when they run out)")
	fs.BoolVar(&o.floorServe, "floor-serve", false, "internal: serve the floor (used by the tool itself)")
	fs.StringVar(&o.floorRedis, "floor-redis", "", "internal: the floor's Redis address")
	fs.StringVar(&o.floorAddr, "floor-addr", "127.0.0.1:0", "internal: the floor's listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.floorServe {
		return serveFloor(ctx, o.floorAddr, o.floorRedis, out)
	}
	for _, c := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > 1024 {
			return fmt.Errorf("-conns: %q is not a count from 1 to 1024", c)
		}
		o.conns = append(o.conns, n)
	}
	for _, s := range strings.Split(*scen, ",") {
		s = strings.TrimSpace(s)
		if !known(s) {
			return fmt.Errorf("-scenarios: unknown %q (known: %s)", s, strings.Join(allScenarios, ", "))
		}
		o.scenarios = append(o.scenarios, s)
	}
	if o.memEvery == 0 {
		o.memEvery = sampleEvery(o.mixed)
	}
	if o.duration <= 0 || o.duration > time.Hour || o.warmup < 0 || o.reps < 1 || o.reps > 100 || o.mixed < 0 || o.mixed > 24*time.Hour ||
		o.memEvery < 10*time.Millisecond || o.memEvery > time.Hour {
		return errors.New("-duration (0, 1h], -warmup >= 0, -reps [1, 100], -mixed [0, 24h] and -mem-every [10ms, 1h] please")
	}

	env, err := startEnv(ctx, o, out)
	if err != nil {
		return err
	}
	defer env.close()
	fmt.Fprintf(out, "loadtest: %s, %d CPU cores (GOMAXPROCS %d), %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Fprintf(out, "loadtest: scopegate %s, floor %s, redis-server %s (all 127.0.0.1)\n", env.sgURL, env.floorURL, env.redis.Addr)

	if len(o.scenarios) > 0 {
		p, err := provision(ctx, env, o, out)
		if err != nil {
			return err
		}
		results, err := measure(ctx, env, p, o, out)
		if err != nil {
			return err
		}
		printTable(out, o, results)
	}
	if o.mixed > 0 {
		return mixed(ctx, env, o, out)
	}
	return nil
}
