package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scopegate/scopegate/oauth/oautherr"
	"github.com/scopegate/scopegate/storage"
)

// RateLimits are the limits on failed attempts, shared by every instance
// through the store (storage.Limiter, GCRA). Each is a number per minute,
// with a burst of the same number. Zero takes the default; a negative
// number turns that limit off. Only failures count: successful use never
// counts against a legitimate client, operator or admin.
type RateLimits struct {
	// OAuthPerClient bounds failed client authentications, code
	// redemptions and refreshes (invalid_client, invalid_grant) at the
	// token, introspection and revocation endpoints, per client_id.
	OAuthPerClient int
	// OAuthPerAddr bounds the same failures per source address.
	OAuthPerAddr int
	// LoginPerAccount bounds failed operator sign-ins per e-mail.
	LoginPerAccount int
	// LoginPerAddr bounds failed operator sign-ins per source address.
	LoginPerAddr int
	// AdminPerAddr bounds failed admin-token uses (admin API, admin login
	// page) per source address.
	AdminPerAddr int
}

// Default rate limits, per minute.
const (
	DefaultOAuthPerClient  = 60
	DefaultOAuthPerAddr    = 60
	DefaultLoginPerAccount = 10
	DefaultLoginPerAddr    = 30
	DefaultAdminPerAddr    = 20
	DefaultLeakedPerAddr   = 30
)

func perMinute(n, def int) storage.Limit {
	switch {
	case n < 0:
		return storage.Limit{}
	case n == 0:
		n = def
	}
	return storage.PerMinute(n)
}

// rateLimits applies the shared limits. Callers peek (check) before the
// expensive work and charge only failures.
type rateLimits struct {
	l        storage.Limiter
	log      *slog.Logger
	rejected *prometheus.CounterVec

	oauthClient, oauthAddr, loginAccount, loginAddr, adminAddr, leakedAddr storage.Limit
}

// newRateLimits counts refusals in rejected (scopegate_rate_limited_total,
// defined with the other metrics in metrics.go).
func newRateLimits(o Options, rejected *prometheus.CounterVec) *rateLimits {
	l := o.Limiter
	if l == nil {
		if sl, ok := o.Store.(storage.Limiter); ok {
			l = sl
		} else {
			l = noLimiter{}
		}
	}
	return &rateLimits{
		l:            l,
		log:          o.Logger,
		rejected:     rejected,
		oauthClient:  perMinute(o.Limits.OAuthPerClient, DefaultOAuthPerClient),
		oauthAddr:    perMinute(o.Limits.OAuthPerAddr, DefaultOAuthPerAddr),
		loginAccount: perMinute(o.Limits.LoginPerAccount, DefaultLoginPerAccount),
		loginAddr:    perMinute(o.Limits.LoginPerAddr, DefaultLoginPerAddr),
		adminAddr:    perMinute(o.Limits.AdminPerAddr, DefaultAdminPerAddr),
		leakedAddr:   perMinute(o.LeakedRate, DefaultLeakedPerAddr),
	}
}

// quietLimiter is a Limiter that can tell, without I/O, that Peek would
// admit a key (storage.Redis following the failure feed).
type quietLimiter interface {
	Quiet(key string, limit storage.Limit) bool
}

// noLimiter stands in when the store keeps no limits: it cannot answer, so
// failures are refused (fail closed) and successes pass.
type noLimiter struct{}

func (noLimiter) Peek(context.Context, string, storage.Limit) (bool, time.Duration, error) {
	return false, 0, storage.ErrUnavailable
}

func (noLimiter) Charge(context.Context, string, storage.Limit) (bool, time.Duration, error) {
	return false, 0, storage.ErrUnavailable
}

// limitKey is one limit applied to one identity.
type limitKey struct {
	name  string // the metric label and the key's namespace
	id    string
	limit storage.Limit
}

func (k limitKey) key() string { return k.name + ":" + k.id }

// overLimit is a refusal: which limit and how long to wait.
type overLimit struct {
	name  string
	retry time.Duration
}

// check peeks at every key (concurrently: one round trip of latency). It
// returns the refusal when any key is over its limit. err is set when the
// limiter could not answer: callers then let the attempt run and refuse
// it only if it fails.
func (rl *rateLimits) check(ctx context.Context, ks ...limitKey) (*overLimit, error) {
	type res struct {
		ok    bool
		retry time.Duration
		err   error
	}
	out := make([]res, len(ks))
	quiet, _ := rl.l.(quietLimiter)
	var hot []int // keys that need the limiter's answer
	for i, k := range ks {
		if k.limit.IsZero() || (quiet != nil && quiet.Quiet(k.key(), k.limit)) {
			out[i].ok = true
			continue
		}
		hot = append(hot, i)
	}
	peek := func(i int) {
		ok, retry, err := rl.l.Peek(ctx, ks[i].key(), ks[i].limit)
		out[i] = res{ok, retry, err}
	}
	// Usually no key is hot; when several are, they are asked at once so
	// the answer still costs one round trip.
	var wg sync.WaitGroup
	for n, i := range hot {
		if n == len(hot)-1 {
			peek(i)
		} else {
			wg.Go(func() { peek(i) })
		}
	}
	wg.Wait()
	var over *overLimit
	var errs []error
	for i, r := range out {
		switch {
		case r.err != nil:
			errs = append(errs, r.err)
		case !r.ok && (over == nil || r.retry > over.retry):
			over = &overLimit{name: ks[i].name, retry: r.retry}
		}
	}
	if over != nil {
		rl.rejected.WithLabelValues(over.name).Inc()
		return over, nil
	}
	if err := errors.Join(errs...); err != nil {
		rl.log.Warn("rate limit: limiter unavailable; failures will be refused", "err", err)
		return nil, err
	}
	return nil, nil
}

// charge counts one failure on every key. An error means it could not be
// counted: the caller refuses the failed attempt (fail closed).
func (rl *rateLimits) charge(ctx context.Context, ks ...limitKey) error {
	var errs []error
	for _, k := range ks {
		if k.limit.IsZero() {
			continue
		}
		if _, _, err := rl.l.Charge(ctx, k.key(), k.limit); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		rl.log.Warn("rate limit: failure not counted", "err", err)
		return err
	}
	return nil
}

// retryAfter sets Retry-After (RFC 9110 §10.2.3) in whole seconds, rounded
// up.
func retryAfter(h http.Header, d time.Duration) {
	h.Set("Retry-After", oautherr.RetryAfterSeconds(d))
}

// rateLimitedDescription is the human half of every 429.
func rateLimitedDescription(what string, d time.Duration) string {
	return "too many " + what + "; retry after " + oautherr.RetryAfterSeconds(d) + " s"
}

// oauthKeys are the per-client and per-address keys of an OAuth request.
// An absent or oversized client_id keeps only the per-address key.
func (rl *rateLimits) oauthKeys(addr, clientID string) []limitKey {
	ks := []limitKey{{name: "oauth_addr", id: addr, limit: rl.oauthAddr}}
	if clientID != "" && len(clientID) <= 200 {
		ks = append(ks, limitKey{name: "oauth_client", id: clientID, limit: rl.oauthClient})
	}
	return ks
}

// loginKeys are the keys of an operator sign-in: per account (the e-mail
// as looked up) and per address.
func (rl *rateLimits) loginKeys(addr, email string) []limitKey {
	ks := []limitKey{{name: "login_addr", id: addr, limit: rl.loginAddr}}
	if e := normalizeEmail(email); e != "" && len(e) <= maxEmailLen {
		ks = append(ks, limitKey{name: "login_account", id: e, limit: rl.loginAccount})
	}
	return ks
}

// adminKeys are the keys of an admin-token use.
func (rl *rateLimits) adminKeys(addr string) []limitKey {
	return []limitKey{{name: "admin_addr", id: addr, limit: rl.adminAddr}}
}

// waitText is a wait in words for a page: "a minute", "12 seconds".
func waitText(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	switch {
	case s <= 1:
		return "a second"
	case s < 60:
		return strconv.FormatInt(s, 10) + " seconds"
	case s < 120:
		return "a minute"
	}
	return strconv.FormatInt((s+59)/60, 10) + " minutes"
}
