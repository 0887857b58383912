// Package redistest starts real Redis servers for tests: a standalone
// redis-server, or a three-master Redis Cluster. Each runs on 127.0.0.1 and
// a free port, in a temporary directory, without persistence (unless extra
// arguments turn it on), and is stopped by t.Cleanup. A killed standalone
// server can be restarted on the same port and directory.
//
// A missing redis-server or redis-cli fails the test (never skips it): the
// conformance suite must run against real Redis. `make test` installs
// Debian's redis-server, which brings both.
//
// The package is used by storage's tests and by the integration tests. It
// imports nothing of scopegate's.
package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Missing is the failure message when redis-server (or redis-cli) is not
// installed.
const Missing = "redis-server not found: run `make test` (it installs Debian's redis-server) or apt-get install redis-server"

// startTimeout bounds how long a server may take to answer PING, and a
// cluster to report cluster_state:ok.
const startTimeout = 20 * time.Second

// Server is a running redis-server process.
type Server struct {
	// Addr is host:port, such as "127.0.0.1:39211".
	Addr string
	// Dir is the server's working directory (its log is Dir/redis.log).
	Dir string

	bin      string
	args     []string // the full command line after bin, for Restart
	cmd      *exec.Cmd
	done     chan struct{} // closed when the process has exited
	killOnce *sync.Once
}

// StartServer starts a standalone redis-server and returns its address.
func StartServer(t testing.TB) string {
	t.Helper()
	return Start(t).Addr
}

// Start starts a redis-server with the given extra arguments (such as
// "--maxmemory", "10mb") and waits until it answers PING. It is killed in
// t.Cleanup, or earlier with Kill.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(Missing)
	}
	var lastErr error
	for range 3 { // a port found free can be taken before the server binds it
		s, err := start(bin, t.TempDir(), args)
		if err == nil {
			t.Cleanup(s.Kill)
			return s
		}
		lastErr = err
	}
	t.Fatalf("redistest: %v", lastErr)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(bin, dir string, extra []string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// Later arguments override earlier ones, so extra may turn
	// persistence on ("--appendonly", "yes").
	args := append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"),
	}, extra...)
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir, bin: bin, args: args}
	if err := s.run(); err != nil {
		return nil, err
	}
	return s, nil
}

// run starts the process and waits until it answers PING (a server loading
// its append-only file answers -LOADING until it is done).
func (s *Server) run() error {
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir = s.Dir
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.cmd, s.done, s.killOnce = cmd, make(chan struct{}), new(sync.Once)
	done := s.done
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			return fmt.Errorf("redis-server on %s exited at start: %s", s.Addr, s.logTail())
		default:
		}
		if ping(s.Addr) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("redis-server on %s did not answer PING within %v: %s", s.Addr, startTimeout, s.logTail())
		}
		time.Sleep(5 * time.Millisecond) // bounded polling for process start
	}
}

// Restart starts the server again after Kill, on the same port, directory
// and arguments: with "--appendonly", "yes" it reloads its append-only file,
// as a crashed production Redis would. It fails the test if the server is
// still running or does not come back.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	select {
	case <-s.done:
	default:
		t.Fatalf("redistest: Restart of %s while it is running (Kill it first)", s.Addr)
	}
	if err := s.run(); err != nil {
		t.Fatalf("redistest: restart: %v", err)
	}
}

// ping sends an inline PING and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return errors.New("unexpected reply " + strings.TrimSpace(line))
	}
	return nil
}

func (s *Server) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], " | ")
}

// Kill stops the server at once (SIGKILL) and waits for it to exit. Later
// connections to Addr are refused until Restart. Kill is idempotent.
func (s *Server) Kill() {
	s.killOnce.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
	})
}

// StartCluster starts a Redis Cluster of three masters and no replicas,
// waits until every node reports cluster_state:ok, and returns the nodes'
// addresses (any of them is a valid seed for redis.NewClusterClient).
func StartCluster(t testing.TB) []string {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatal(Missing)
	}
	addrs := make([]string, 3)
	for i := range addrs {
		addrs[i] = Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000").Addr
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v: %s", err, out)
	}
	for _, a := range addrs {
		if err := waitClusterOK(ctx, a); err != nil {
			t.Fatalf("redistest: cluster node %s: %v", a, err)
		}
	}
	return addrs
}

func waitClusterOK(ctx context.Context, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	return poll(ctx, 10*time.Millisecond, fmt.Sprintf("cluster not ok within %v", startTimeout), func() error {
		info, err := c.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") ||
			!strings.Contains(info, "cluster_known_nodes:3") || !strings.Contains(info, "cluster_slots_ok:16384") {
			return errors.New(strings.ReplaceAll(info, "\r\n", " "))
		}
		return nil
	})
}

// poll calls check every interval until it returns nil, or until ctx ends:
// then the error is what and check's last error.
func poll(ctx context.Context, every time.Duration, what string, check func() error) error {
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, err)
		case <-time.After(every): // bounded polling
		}
	}
}

// Launch starts a redis-server like Start, for programs that are not tests
// (the load tool): dir is its working directory, and the caller stops it
// with Kill. It fails when redis-server is not installed.
func Launch(dir string, args ...string) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New(Missing)
	}
	var lastErr error
	for range 3 { // a port found free can be taken before the server binds it
		s, err := start(bin, dir, args)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}
