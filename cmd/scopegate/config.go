package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/web"
)

// envPrefix is the prefix of every environment setting.
const envPrefix = "SCOPEGATE_"

// envName is the environment variable behind a flag: SCOPEGATE_ and the
// flag's name upper-cased with dashes as underscores; --redis reads
// SCOPEGATE_REDIS_URL (DESIGN.md).
func envName(flagName string) string {
	if flagName == "redis" {
		return envPrefix + "REDIS_URL"
	}
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// newFlagSet returns a flag set that reports its own errors to the caller
// (not to stderr) and whose usage lists every flag with its variable.
func newFlagSet(name, synopsis string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: %s\n\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			typ, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(out, "  --%s %s\n", f.Name, typ)
			fmt.Fprintf(out, "        %s\n", usage)
			line := "        env " + envName(f.Name)
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
				line += "; default " + f.DefValue
			}
			fmt.Fprintln(out, line)
		})
	}
	return fs
}

// parseFlags parses args, then fills every flag not given on the command
// line from its environment variable. All problems are returned together:
// every bad flag value, then every bad environment value.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) []error {
	errs, stopped := parseAll(fs, args)
	if len(errs) > 0 && errors.Is(errs[0], flag.ErrHelp) {
		return errs
	}
	if !stopped && fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == "help" {
			return
		}
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		before := f.Value.String()
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, badValue(envName(f.Name), v, f.Value, unwrapFlagErr(err)))
			_ = f.Value.Set(before) // a failed Set may have zeroed it
		}
	})
	return errs
}

func unwrapFlagErr(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// ServeConfig is the configuration of `scopegate serve`.
type ServeConfig struct {
	Addr           string        `flag:"addr" validate:"required,listenaddr"`
	AdminAddr      string        `flag:"admin-addr" validate:"omitempty,listenaddr"`
	Issuer         string        `flag:"issuer" validate:"omitempty,issuer"`
	RedisURL       string        `flag:"redis" validate:"omitempty,redisurl"`
	RedisWait      int           `flag:"redis-wait-replicas" validate:"min=0,max=5"`
	RedisWaitFor   time.Duration `flag:"redis-wait-timeout" validate:"min=10ms,max=2s"`
	Demo           bool          `flag:"demo"`
	DemoAPIAddr    string        `flag:"demo-api-addr" validate:"omitempty,listenaddr"`
	AdminToken     string        `flag:"admin-token" validate:"omitempty,min=32,max=256,printascii"`
	CodeTTL        time.Duration `flag:"code-ttl" validate:"min=5s,max=10m"`
	AccessTTL      time.Duration `flag:"access-ttl" validate:"min=1m,max=24h"`
	RefreshTTL     time.Duration `flag:"refresh-ttl" validate:"min=1h,max=8760h"`
	TrustedProxies stringList    `flag:"trusted-proxy" validate:"dive,cidr|ip"`
	LogLevel       string        `flag:"log-level" validate:"oneof=debug info warn error"`
	LogFormat      string        `flag:"log-format" validate:"oneof=text json"`

	// Shared limits on failed attempts, per minute (0 turns one off).
	RateClientFailures int           `flag:"rate-client-failures" validate:"min=0,max=100000"`
	RateAddrFailures   int           `flag:"rate-addr-failures" validate:"min=0,max=100000"`
	RateLoginAccount   int           `flag:"rate-login-account" validate:"min=0,max=100000"`
	RateLoginAddr      int           `flag:"rate-login-addr" validate:"min=0,max=100000"`
	RateAdminAddr      int           `flag:"rate-admin-addr" validate:"min=0,max=100000"`
	RateLeakedAddr     int           `flag:"rate-leaked-addr" validate:"min=0,max=100000"`
	AuditRetention     time.Duration `flag:"audit-retention" validate:"min=24h,max=87600h"`
	Pprof              bool          `flag:"pprof"`

	// AdminTokenLabel names the admin token in the audit trail (actor
	// admin:LABEL); AdminTokenOnly retires every other stored admin token.
	AdminTokenLabel string `flag:"admin-token-label" validate:"omitempty,max=100,printascii"`
	AdminTokenOnly  bool   `flag:"admin-token-only" validate:"excluded_without=AdminToken"`
}

func (c *ServeConfig) bind(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "`host:port` to listen on (port 0 picks a free one)")
	fs.StringVar(&c.AdminAddr, "admin-addr", "", "`host:port` for a separate admin listener; when set, /admin/ is served only there")
	fs.StringVar(&c.Issuer, "issuer", "", "public base `URL` of this server, the RFC 8414 issuer (default http://ADDR)")
	fs.StringVar(&c.RedisURL, "redis", "", "Redis `URL`: redis://[user:pass@]host:port[/db], rediss:// for TLS, redis+cluster://host:port?addr=host2:port2 for Redis Cluster, redis+sentinel://[:sentinelpass@]host:26379?addr=host2:26379&master_name=NAME[&password=P] for Sentinel; empty runs the embedded in-process store (data is lost on exit)")
	fs.IntVar(&c.RedisWait, "redis-wait-replicas", 0, "`replicas` that must acknowledge each revocation and code/refresh exchange (Redis WAIT) before it is reported durable; 0 does not wait")
	fs.DurationVar(&c.RedisWaitFor, "redis-wait-timeout", 500*time.Millisecond, "most `time` to wait for the replicas of --redis-wait-replicas (10ms to 2s)")
	fs.BoolVar(&c.Demo, "demo", false, "load demo data (an operator with two websites, a plugin, a resource server) and print how to try it")
	fs.StringVar(&c.DemoAPIAddr, "demo-api-addr", "", "`host:port` of the demo REST API that --demo starts beside the server (default: the port after --addr's; a free port when that is 0)")
	fs.StringVar(&c.AdminToken, "admin-token", "", "bearer `token` for the admin API (32+ characters); when unset and none exists, one is generated and printed once")
	fs.StringVar(&c.AdminTokenLabel, "admin-token-label", "", "`label` of the admin token in the audit trail (default \"configured token\", or \"first-start token, DATE\" for a generated one)")
	fs.BoolVar(&c.AdminTokenOnly, "admin-token-only", false, "make --admin-token the only valid admin token: every other stored admin token is retired at start (recovers from a lost or leaked one)")
	fs.DurationVar(&c.CodeTTL, "code-ttl", 60*time.Second, "authorization code `lifetime`")
	fs.DurationVar(&c.AccessTTL, "access-ttl", time.Hour, "access token `lifetime`")
	fs.DurationVar(&c.RefreshTTL, "refresh-ttl", 30*24*time.Hour, "refresh token `lifetime`")
	fs.Var(&c.TrustedProxies, "trusted-proxy", "`IP or CIDR` of a reverse proxy whose X-Forwarded-For is believed (repeatable; comma-separated in the environment); default none")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log `format`: text or json")
	fs.DurationVar(&c.AuditRetention, "audit-retention", storage.DefaultAuditRetention, "how long audit events are kept (`duration`, trimmed by time, never by count)")
	fs.BoolVar(&c.Pprof, "pprof", false, "serve net/http/pprof under /admin/debug/pprof/ (admin token required)")

	fs.IntVar(&c.RateClientFailures, "rate-client-failures", 60, "failed client authentications, code redemptions and refreshes per client_id per `minute`, shared by all instances (0: no limit)")
	fs.IntVar(&c.RateAddrFailures, "rate-addr-failures", 60, "the same failures per source address per `minute` (0: no limit)")
	fs.IntVar(&c.RateLoginAccount, "rate-login-account", 10, "failed operator sign-ins per account per `minute` (0: no limit)")
	fs.IntVar(&c.RateLoginAddr, "rate-login-addr", 30, "failed operator sign-ins per source address per `minute` (0: no limit)")
	fs.IntVar(&c.RateAdminAddr, "rate-admin-addr", 20, "failed admin-token uses per source address per `minute` (0: no limit)")
	fs.IntVar(&c.RateLeakedAddr, "rate-leaked-addr", 30, "leaked-token reports per source address per `minute` (0: no limit)")
}

// rateLimits turns the rate flags into web's limits (0 there means the
// default, negative none).
func (c *ServeConfig) rateLimits() (web.RateLimits, int) {
	off := func(n int) int {
		if n == 0 {
			return -1
		}
		return n
	}
	return web.RateLimits{
		OAuthPerClient:  off(c.RateClientFailures),
		OAuthPerAddr:    off(c.RateAddrFailures),
		LoginPerAccount: off(c.RateLoginAccount),
		LoginPerAddr:    off(c.RateLoginAddr),
		AdminPerAddr:    off(c.RateAdminAddr),
	}, off(c.RateLeakedAddr)
}

// newValidator returns the validator with scopegate's own rules.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		if n := f.Tag.Get("flag"); n != "" {
			return n
		}
		if n := strings.Split(f.Tag.Get("json"), ",")[0]; n != "" && n != "-" {
			return n
		}
		return f.Name
	})
	_ = v.RegisterValidation("issuer", func(fl validator.FieldLevel) bool {
		return validIssuer(fl.Field().String()) == nil
	})
	_ = v.RegisterValidation("listenaddr", func(fl validator.FieldLevel) bool {
		host, port, err := net.SplitHostPort(fl.Field().String())
		if err != nil || strings.ContainsAny(host, " /") {
			return false
		}
		n, err := strconv.Atoi(port)
		return err == nil && n >= 0 && n <= 65535
	})
	_ = v.RegisterValidation("redisurl", func(fl validator.FieldLevel) bool {
		_, err := redisOptions(fl.Field().String())
		return err == nil
	})
	return v
}

// validIssuer applies RFC 8414 §2: https (http only for loopback), no query
// or fragment.
func validIssuer(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return errors.New("not an absolute URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must have no query or fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip == nil || !ip.IsLoopback()) && host != "localhost" {
			return errors.New("must be https (http only for loopback)")
		}
	default:
		return errors.New("must be https")
	}
	return nil
}

// validate checks the whole config and returns one message per problem,
// naming the flag and its environment variable.
func validate(v *validator.Validate, cfg any) []error {
	err := v.Struct(cfg)
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		if err != nil {
			return []error{err}
		}
		return nil
	}
	out := make([]error, 0, len(verrs))
	for _, fe := range verrs {
		name := fe.Field()
		if i := strings.IndexByte(name, '['); i > 0 {
			name = name[:i] // an element of a repeatable flag
		}
		out = append(out, fmt.Errorf("--%s (%s): %s", name, envName(name), describe(fe)))
	}
	return out
}

func describe(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "listenaddr":
		return fmt.Sprintf("%q is not host:port", fe.Value())
	case "issuer":
		return fmt.Sprintf("%q is not a valid issuer: %v", fe.Value(), validIssuer(fmt.Sprint(fe.Value())))
	case "redisurl":
		_, err := redisOptions(fmt.Sprint(fe.Value()))
		return fmt.Sprintf("not a usable Redis URL: %v", err)
	case "min":
		return bound(fe, "below the minimum", "shorter than the minimum", "at least")
	case "max":
		return bound(fe, "above the maximum", "longer than the maximum", "at most")
	case "oneof":
		return fmt.Sprintf("%q is not one of: %s", fe.Value(), fe.Param())
	case "cidr|ip":
		return fmt.Sprintf("%q is not an IP address or CIDR range", fe.Value())
	case "printascii":
		return "must be printable ASCII"
	case "excluded_without":
		return "needs --admin-token (the one token to keep)"
	}
	return fmt.Sprintf("fails %s", fe.Tag())
}

// bound words a failed min or max: an int's or a duration's value against
// the limit (number, duration: "below the minimum"), else a length in
// characters (length: "at least").
func bound(fe validator.FieldError, number, duration, length string) string {
	switch fe.Value().(type) {
	case int:
		return fmt.Sprintf("%v is %s %s", fe.Value(), number, fe.Param())
	case time.Duration:
		return fmt.Sprintf("%v is %s %s", fe.Value(), duration, fe.Param())
	}
	return fmt.Sprintf("must be %s %s characters", length, fe.Param())
}

// stringList is a repeatable string flag; from the environment it takes a
// comma-separated list.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}
