package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scopegate/scopegate/storage/redistest"
)

// adminToken is the bearer token the tool starts scopegate with.
const adminToken = "loadtest-admin-token-0123456789abcdefghijklmnop"

// env is what the tool started: Redis, scopegate, the floor.
type env struct {
	dir      string
	redis    *redistest.Server
	rdb      *redis.Client
	sg       *exec.Cmd
	floor    *exec.Cmd
	sgURL    string
	floorURL string
	hc       *http.Client // for provisioning
	stops    []func()
}

func (e *env) close() {
	for i := len(e.stops) - 1; i >= 0; i-- {
		e.stops[i]()
	}
}

func startEnv(ctx context.Context, o options, out io.Writer) (*env, error) {
	dir, err := os.MkdirTemp("", "scopegate-loadtest-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, hc: httpc(32, nil)}
	e.stops = append(e.stops, e.hc.CloseIdleConnections)
	e.stops = append(e.stops, func() { _ = os.RemoveAll(dir) })
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	e.redis, err = redistest.Launch(dir)
	if err != nil {
		return nil, err
	}
	e.stops = append(e.stops, e.redis.Kill)
	e.rdb = redis.NewClient(&redis.Options{Addr: e.redis.Addr})
	e.stops = append(e.stops, func() { _ = e.rdb.Close() })

	bin := o.bin
	if bin == "" {
		bin = filepath.Join(dir, "scopegate")
		fmt.Fprintln(out, "loadtest: building scopegate")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/scopegate/scopegate/cmd/scopegate")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("building scopegate: %w", err)
		}
	}
	var stop func()
	e.sg, e.sgURL, stop, err = startProc(bin, regexp.MustCompile(`^scopegate: listening on (http://\S+)`),
		"serve", "--addr", "127.0.0.1:0", "--redis", "redis://"+e.redis.Addr, "--admin-token", adminToken,
		"--code-ttl", "10m", "--log-level", "warn")
	if err != nil {
		return nil, fmt.Errorf("scopegate: %w", err)
	}
	e.stops = append(e.stops, stop)

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	e.floor, e.floorURL, stop, err = startProc(self, regexp.MustCompile(`^floor: listening on (http://\S+)`),
		"-floor-serve", "-floor-redis", e.redis.Addr)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	e.stops = append(e.stops, stop)
	ok = true
	return e, nil
}

// startProc starts bin and waits (at most 30 s) for the stdout line
// matching ready, whose first group is the server's URL. stop interrupts
// it and kills it after 10 s.
func startProc(bin string, ready *regexp.Regexp, args ...string) (*exec.Cmd, string, func(), error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "GOTRACEBACK=single")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", nil, err
	}
	var logMu sync.Mutex
	var logBuf strings.Builder
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		if logBuf.Len() < 64<<10 {
			logBuf.Write(p)
		}
		return len(p), nil
	})
	if err := cmd.Start(); err != nil {
		return nil, "", nil, err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case u := <-found:
		return cmd, u, stop, nil
	case <-done:
		logMu.Lock()
		defer logMu.Unlock()
		return nil, "", nil, fmt.Errorf("%s exited at start: %s", filepath.Base(bin), logBuf.String())
	case <-time.After(30 * time.Second):
		stop()
		return nil, "", nil, errors.New(filepath.Base(bin) + " did not start within 30s")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// rssKB reads a process's resident set size from /proc (0 when unknown).
func rssKB(cmd *exec.Cmd) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// serveFloor is the floor: per request one form value, one go-redis GET
// and a small JSON reply. It is what any Redis-backed HTTP endpoint costs
// at the least.
func serveFloor(ctx context.Context, addr, redisAddr string, out io.Writer) error {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /floor", func(w http.ResponseWriter, r *http.Request) {
		v, err := rdb.Get(r.Context(), "floor:"+r.PostFormValue("token")).Result()
		if err != nil {
			http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, `{"active":true,"scope":"`+v+`"}`)
	})
	return listenAndServe(ctx, addr, mux, out, "floor")
}

// listenAndServe serves h on addr until ctx ends, announcing
// "<name>: listening on http://ADDR" on out.
func listenAndServe(ctx context.Context, addr string, h http.Handler, out io.Writer, name string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "%s: listening on http://%s\n", name, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// usedMemory is Redis's INFO memory used_memory (0 when unknown).
func usedMemory(ctx context.Context, e *env) int64 {
	info, err := e.rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
