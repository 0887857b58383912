package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/scopegate/scopegate/web/adminapi"
)

// The plumbing every admin subcommand shares: flags and environment,
// the admin API client, --json and text output, the one-line error.

// adminCmd holds what every admin subcommand needs.
type adminCmd struct {
	name   string
	getenv env
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer // warnings (a revocation not yet durable)
	conn   conn
	// usage collects the flag set's usage text: printed for --help only,
	// never after a flag error (stdout stays clean for scripts).
	usage bytes.Buffer
}

// exit is the exit status for a subcommand's outcome; a failure is one
// line on stderr, prefixed with the command's name.
func (h *adminCmd) exit(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(h.stderr, "%s: %s\n", h.name, oneLine(ue.msg))
		return 2
	}
	fmt.Fprintf(h.stderr, "%s: %s\n", h.name, oneLine(err.Error()))
	return 1
}

// parse parses the flags and connects; want is the number of positional
// arguments (named in what).
func (h *adminCmd) parse(fs *flag.FlagSet, args []string, what ...string) ([]string, *apiClient, error) {
	pos, err := parseAdminFlags(fs, args, h.getenv)
	if errors.Is(err, flag.ErrHelp) {
		_, _ = h.stdout.Write(h.usage.Bytes())
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, usageError{err.Error()}
	}
	if len(pos) < len(what) {
		return nil, nil, usagef("missing %s", what[len(pos)])
	}
	if len(pos) > len(what) {
		return nil, nil, usagef("unexpected argument %q", pos[len(what)])
	}
	api, err := newAPIClient(h.conn)
	if err != nil {
		// Reported at the first request, so the command's own checks of
		// its flags (found locally) come first.
		api = &apiClient{err: err}
	}
	return pos, api, nil
}

func (h *adminCmd) flags(synopsis string) *flag.FlagSet {
	return adminFlagSet(h.name, synopsis, &h.usage, &h.conn)
}

// printJSON prints the server's object as is, indented.
func (h *adminCmd) printJSON(raw json.RawMessage) error {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	b.WriteByte('\n')
	_, err := h.stdout.Write(b.Bytes())
	return err
}

func (h *adminCmd) table() *tabwriter.Writer {
	return tabwriter.NewWriter(h.stdout, 0, 4, 2, ' ', 0)
}

// call runs one request and prints the answer: JSON as is, or text via
// show.
func call[T any](ctx context.Context, h *adminCmd, api *apiClient, method, path string, body any, show func(T), also ...any) error {
	var raw json.RawMessage
	if err := api.do(ctx, method, path, body, &raw); err != nil {
		return err
	}
	for _, v := range also { // more of the answer the caller wants, whatever the output mode
		_ = json.Unmarshal(raw, v)
	}
	if h.conn.JSON {
		return h.printJSON(raw)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	show(v)
	return nil
}

// dash is a list for a text column: space-separated, "-" when empty.
func dash(ss []string) string { return orDash(strings.Join(ss, " ")) }

// orDash is a value for a text column, "-" when empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readLine reads one line from r, without its line ending.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReaderSize(r, 4096).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("standard input is empty")
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// defaultServer is where the admin subcommands look for the server.
const defaultServer = "http://127.0.0.1:8080"

// conn is how an admin subcommand reaches the server: --server and
// --admin-token, which also read SCOPEGATE_SERVER and
// SCOPEGATE_ADMIN_TOKEN.
type conn struct {
	Server     string
	AdminToken string
	JSON       bool
}

// connFlags are the flags that fall back to the environment. The other
// admin flags do not: a stale SCOPEGATE_TOKEN in a shell must never revoke
// anything.
var connFlags = []string{"server", "admin-token"}

// adminFlagSet is newFlagSet plus the connection flags, with a usage that
// names the environment only where it applies.
func adminFlagSet(name, synopsis string, out io.Writer, c *conn) *flag.FlagSet {
	fs := newFlagSet(name, synopsis, out)
	fs.StringVar(&c.Server, "server", defaultServer, "base `URL` of the scopegate server (its admin listener if --admin-addr is used)")
	fs.StringVar(&c.AdminToken, "admin-token", "", "admin bearer `token`")
	fs.BoolVar(&c.JSON, "json", false, "print one JSON object instead of text")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: %s\n\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			typ, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(out, "  --%s %s\n        %s\n", f.Name, typ, usage)
			var notes []string
			for _, n := range connFlags {
				if n == f.Name {
					notes = append(notes, "env "+envName(f.Name))
				}
			}
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" && f.DefValue != "0s" {
				notes = append(notes, "default "+f.DefValue)
			}
			if len(notes) > 0 {
				fmt.Fprintf(out, "        %s\n", strings.Join(notes, "; "))
			}
		})
	}
	return fs
}

// parseAdminFlags parses flags and positional arguments in any order
// (`clients show ID --json` and `clients show --json ID`), then fills the
// connection flags from the environment when not given.
func parseAdminFlags(fs *flag.FlagSet, args []string, getenv env) ([]string, error) {
	var pos []string
	rest := args
	for {
		if errs, _ := parseAll(fs, rest); len(errs) > 0 {
			if errors.Is(errs[0], flag.ErrHelp) {
				return nil, errs[0]
			}
			return nil, errors.New(joinErrors(errs))
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		rest = rest[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range connFlags {
		if set[name] {
			continue
		}
		if v := getenv(envName(name)); v != "" {
			if err := fs.Set(name, v); err != nil {
				return nil, fmt.Errorf("%s: invalid value: %v", envName(name), unwrapFlagErr(err))
			}
		}
	}
	return pos, nil
}

// stringSlice is a repeatable string flag.
type stringSlice []string

func (s *stringSlice) String() string {
	if s == nil {
		return ""
	}
	return strings.Join(*s, ",")
}

func (s *stringSlice) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// apiClient calls the admin API.
type apiClient struct {
	base  string
	token string
	hc    *http.Client
	err   error // why the client cannot be used (no token, bad --server)
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func newAPIClient(c conn) (*apiClient, error) {
	u, err := url.Parse(c.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, usagef("--server (%s): %q is not an http(s) base URL", envName("server"), c.Server)
	}
	if c.AdminToken == "" {
		return nil, usagef("no admin token: set --admin-token or %s", envName("admin-token"))
	}
	return &apiClient{
		base:  strings.TrimRight(c.Server, "/"),
		token: c.AdminToken,
		hc:    &http.Client{Timeout: 60 * time.Second},
	}, nil
}

// apiError is an answer that is not a success: its HTTP status and the
// server's error body (empty when the body is not one).
type apiError struct {
	Status int
	Body   adminapi.Error
}

func (e *apiError) Error() string {
	msg := e.Body.Description
	if msg == "" {
		msg = e.Body.Code
	}
	if msg == "" {
		msg = fmt.Sprintf("server answered HTTP %d", e.Status)
	}
	if e.Status == http.StatusUnauthorized {
		msg = "admin token rejected: " + msg
	}
	return msg
}

// do sends body (if non-nil) as JSON and decodes a 2xx answer into out.
func (a *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	if a.err != nil {
		return a.err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("cannot reach server at %s", a.base)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("cannot reach server at %s: %v", a.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("reading the answer from %s: %v", a.base, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &apiError{Status: resp.StatusCode}
		if json.Unmarshal(data, &e.Body) != nil || (e.Body.Code == "" && e.Body.Description == "") {
			e.Body = adminapi.Error{}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("unexpected answer from %s%s (HTTP %d): not the expected JSON", a.base, path, resp.StatusCode)
	}
	return nil
}

// oneLine makes an error message fit the one-line contract.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}

// joinErrors puts several problems on one line.
func joinErrors(errs []error) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}
