package oauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scopegate/scopegate/storage"
)

// Store is what the protocol layer needs from storage.
type Store interface {
	storage.Clients
	storage.Grants
	storage.Audit
}

// Config configures a Provider. Zero durations take the defaults.
type Config struct {
	// Issuer is the RFC 8414 issuer identifier: the server's base URL.
	Issuer     string
	CodeTTL    time.Duration // default 60 s
	AccessTTL  time.Duration // default 1 h
	RefreshTTL time.Duration // default 30 days
	// ClientCacheTTL bounds how long a client record (status, approved
	// maximum, secrets) is reused in process when a change message is
	// lost (see FollowClientChanges); DESIGN.md allows up to 1 s.
	ClientCacheTTL time.Duration // default 500 ms
	Now            func() time.Time
	Logger         *slog.Logger
	// Registerer receives the Provider's counters (tokens issued by grant
	// type, introspections by outcome); nil: they are not exported.
	Registerer prometheus.Registerer
}

// Defaults.
const (
	DefaultCodeTTL        = 60 * time.Second
	DefaultAccessTTL      = time.Hour
	DefaultRefreshTTL     = 30 * 24 * time.Hour
	DefaultClientCacheTTL = 500 * time.Millisecond
)

// Provider is the protocol layer: it owns the go-oauth2 engine (its
// server.Server, with our Manager behind it; see engine.go) and adds what
// the engine lacks.
// It is safe for concurrent use.
type Provider struct {
	cfg     Config
	store   Store
	log     *slog.Logger
	now     func() time.Time
	engine  *server.Server
	clients *clientCache
	metrics *metrics
}

// New returns a Provider over store.
func New(cfg Config, store Store) *Provider {
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = DefaultCodeTTL
	}
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = DefaultAccessTTL
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = DefaultRefreshTTL
	}
	if cfg.ClientCacheTTL <= 0 {
		cfg.ClientCacheTTL = DefaultClientCacheTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Provider{
		cfg:     cfg,
		store:   store,
		log:     cfg.Logger,
		now:     cfg.Now,
		clients: newClientCache(store, cfg.ClientCacheTTL, cfg.Now),
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		// Only a second Provider on one registry gets here: count anyway.
		p.log.Error("oauth: metrics not registered", "err", err)
		m, _ = newMetrics(nil)
	}
	p.metrics = m
	p.engine = p.newEngine()
	return p
}

// Issuer returns the configured issuer.
func (p *Provider) Issuer() string { return p.cfg.Issuer }

// allowsGrant reports whether the client is registered for a grant type.
func allowsGrant(c storage.Client, gt string) bool {
	for _, g := range c.GrantTypes {
		if g == gt {
			return true
		}
	}
	return false
}

// ClientCredentials extracts client credentials from r, whose form must be
// parsed already. basic reports whether HTTP Basic was used.
func ClientCredentials(r *http.Request) (id, secret string, basic bool, err error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		u, pw, ok := r.BasicAuth()
		if !ok {
			return "", "", true, ErrInvalidClient.WithDescription("malformed HTTP Basic credentials")
		}
		// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic.
		if u, err = url.QueryUnescape(u); err != nil {
			return "", "", true, ErrInvalidClient.WithDescription("malformed HTTP Basic credentials")
		}
		if pw, err = url.QueryUnescape(pw); err != nil || u == "" {
			return "", "", true, ErrInvalidClient.WithDescription("malformed HTTP Basic credentials")
		}
		if r.PostForm.Get("client_secret") != "" {
			return "", "", true, ErrInvalidRequest.WithDescription("use one client authentication method, not two")
		}
		if fid := r.PostForm.Get("client_id"); fid != "" && fid != u {
			return "", "", true, ErrInvalidRequest.WithDescription("client_id differs from the authenticated client")
		}
		return u, pw, true, nil
	}
	id = r.PostForm.Get("client_id")
	if id == "" {
		return "", "", false, ErrInvalidClient.WithDescription("client authentication is required")
	}
	return id, r.PostForm.Get("client_secret"), false, nil
}

// authenticate checks a client's credentials. A confidential client must
// present a current secret; a public client must present none (it proves
// itself with PKCE). A suspended or unknown client is invalid_client.
func (p *Provider) authenticate(ctx context.Context, id, secret string) (storage.Client, error) {
	c, err := p.clients.get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		// Spend the same work as a real comparison.
		storage.Client{}.VerifySecret(secret, p.now())
		return storage.Client{}, ErrInvalidClient
	}
	if err != nil {
		return storage.Client{}, err
	}
	switch {
	case c.Type == storage.Public && secret != "":
		return storage.Client{}, ErrInvalidClient.WithDescription("public clients have no secret")
	case c.Type != storage.Public && !c.VerifySecret(secret, p.now()):
		return storage.Client{}, ErrInvalidClient
	case c.Status != storage.Active:
		return storage.Client{}, ErrInvalidClient.WithDescription("client is suspended")
	}
	return c, nil
}

// audit appends an event; a failure is logged, never returned: the action
// it records has already happened.
func (p *Provider) audit(ctx context.Context, actor string, e storage.Event) {
	storage.AuditLog{Store: p.store, Logger: p.log, Now: p.now}.Record(ctx, actor, e)
}

// HashSecret returns the stored form of a client secret (SHA-256, never
// expiring). Secrets are server-generated with 256 bits of entropy, so a
// fast hash is right: verification sits on the introspection path.
func HashSecret(secret string) storage.SecretHash {
	return storage.HashSecret(secret, time.Time{})
}

// clientCache keeps client records in process for at most ttl, so that the
// introspection path costs one Redis round trip. A change to a client drops
// it at once: on the instance that made it (Forget) and, through Redis
// pub/sub, on every other (FollowClientChanges); the TTL only bounds how
// long a lost message can leave a stale record.
type clientCache struct {
	store storage.Clients
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]cachedClient
	// gen counts invalidations. A record read from the store is cached
	// only if none happened meanwhile: a read that raced a change must not
	// put the old record back after the change dropped it.
	gen uint64
}

type cachedClient struct {
	c   storage.Client
	exp time.Time
}

func newClientCache(s storage.Clients, ttl time.Duration, now func() time.Time) *clientCache {
	return &clientCache{store: s, ttl: ttl, now: now, m: make(map[string]cachedClient)}
}

func (cc *clientCache) get(ctx context.Context, id string) (storage.Client, error) {
	now := cc.now()
	cc.mu.Lock()
	e, ok := cc.m[id]
	gen := cc.gen
	cc.mu.Unlock()
	if ok && now.Before(e.exp) {
		return e.c, nil
	}
	c, err := cc.store.GetClient(ctx, id)
	if err != nil {
		return storage.Client{}, err
	}
	cc.mu.Lock()
	if cc.gen == gen {
		if len(cc.m) > 10000 { // bound memory: drop everything, refill on demand
			clear(cc.m)
		}
		cc.m[id] = cachedClient{c: c, exp: now.Add(cc.ttl)}
	}
	cc.mu.Unlock()
	return c, nil
}

// forget drops one client, or every client when id is "".
func (cc *clientCache) forget(id string) {
	cc.mu.Lock()
	if id == "" {
		clear(cc.m)
	} else {
		delete(cc.m, id)
	}
	cc.gen++
	cc.mu.Unlock()
}

// Forget drops a client from this instance's cache at once (after an admin
// change made here). Other instances drop it when the store's change
// message reaches them (FollowClientChanges), at the latest within the
// cache TTL.
func (p *Provider) Forget(clientID string) {
	if clientID != "" {
		p.clients.forget(clientID)
	}
}

// ClientChangeFeed announces changes to client records made by any
// instance; storage.Redis implements it over Redis pub/sub.
type ClientChangeFeed interface {
	// SubscribeClientChanges calls onChange with each changed client's ID,
	// or "" when every client must be forgotten (messages may have been
	// lost), until ctx is done or stop is called.
	SubscribeClientChanges(ctx context.Context, onChange func(clientID string)) (stop func(), err error)
}

// FollowClientChanges makes p drop a client from its cache as soon as any
// instance changes it (suspension, a lowered maximum, a rotated secret,
// deletion), and the whole cache when the subscription had to be
// re-established. It returns once subscribed; call it with the server's
// lifetime context and call stop at shutdown.
func (p *Provider) FollowClientChanges(ctx context.Context, feed ClientChangeFeed) (stop func(), err error) {
	return feed.SubscribeClientChanges(ctx, p.clients.forget)
}
