package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisOptions reads the --redis setting, one URL for every deployment
// shape, parsed by go-redis itself:
//
//	redis://[user:pass@]host:port[/db][?opts]      one server (redis.ParseURL); rediss:// for TLS
//	redis+cluster://[user:pass@]host:port?addr=host2:port2[&addr=…][&opts]
//	                                                Redis Cluster seed nodes (redis.ParseClusterURL)
//	redis+sentinel://[suser:spass@]host:26379?addr=host2:26379&master_name=NAME[&password=P][&opts]
//	                                                Sentinel (redis.ParseFailoverURL): the host and
//	                                                addr= are sentinels; the userinfo is the
//	                                                sentinels' credentials, username=/password= the
//	                                                primary's
//
// rediss+cluster:// and rediss+sentinel:// use TLS. opts are go-redis's own
// query options (pool_size, dial_timeout, read_timeout, write_timeout,
// pool_timeout, max_retries, …); unknown ones are refused. Options that
// would send reads to replicas (read_only, route_by_latency, route_randomly,
// replica_only) are refused: a revocation must be seen by the very next
// lookup, which only the primary guarantees.
func redisOptions(raw string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("cannot parse URL")
	}
	base, mode, _ := strings.Cut(u.Scheme, "+")
	if base != "redis" && base != "rediss" {
		return nil, fmt.Errorf("scheme %q is not redis, rediss, redis+cluster, rediss+cluster, redis+sentinel or rediss+sentinel", u.Scheme)
	}
	q := u.Query()
	for _, name := range []string{"read_only", "route_by_latency", "route_randomly", "replica_only", "use_disconnected_replicas"} {
		if q.Has(name) {
			return nil, fmt.Errorf("option %s is not supported: scopegate reads from the primary so that a revocation is seen at once", name)
		}
	}
	// go-redis parses the URL with its plain scheme.
	plain := *u
	plain.Scheme = base
	s := plain.String()
	var o *redis.UniversalOptions
	switch mode {
	case "":
		c, err := redis.ParseURL(s)
		if err != nil {
			return nil, err
		}
		o = &redis.UniversalOptions{
			Addrs: []string{c.Addr}, DB: c.DB, Username: c.Username, Password: c.Password, TLSConfig: c.TLSConfig,
			MaxRetries: c.MaxRetries, DialTimeout: c.DialTimeout, ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout,
			PoolSize: c.PoolSize, PoolTimeout: c.PoolTimeout, MinIdleConns: c.MinIdleConns, ClientName: c.ClientName,
		}
	case "cluster":
		c, err := redis.ParseClusterURL(s)
		if err != nil {
			return nil, err
		}
		o = &redis.UniversalOptions{
			Addrs: c.Addrs, IsClusterMode: true, Username: c.Username, Password: c.Password, TLSConfig: c.TLSConfig,
			MaxRetries: c.MaxRetries, DialTimeout: c.DialTimeout, ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout,
			PoolSize: c.PoolSize, PoolTimeout: c.PoolTimeout, MinIdleConns: c.MinIdleConns, ClientName: c.ClientName,
			MaxRedirects: c.MaxRedirects,
		}
	case "sentinel":
		c, err := redis.ParseFailoverURL(s)
		if err != nil {
			return nil, err
		}
		if c.MasterName == "" {
			return nil, errors.New("a Sentinel URL needs master_name=NAME")
		}
		o = &redis.UniversalOptions{
			Addrs: c.SentinelAddrs, MasterName: c.MasterName, SentinelUsername: c.SentinelUsername, SentinelPassword: c.SentinelPassword,
			DB: c.DB, Username: c.Username, Password: c.Password, TLSConfig: c.TLSConfig,
			MaxRetries: c.MaxRetries, DialTimeout: c.DialTimeout, ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout,
			PoolSize: c.PoolSize, PoolTimeout: c.PoolTimeout, MinIdleConns: c.MinIdleConns, ClientName: c.ClientName,
		}
	default:
		return nil, fmt.Errorf("scheme %q is not redis, rediss, redis+cluster, rediss+cluster, redis+sentinel or rediss+sentinel", u.Scheme)
	}
	o.MaxRetries = failFastRetries(o.MaxRetries)
	o.DialerRetries = 1
	o.ContextTimeoutEnabled = true // a request's deadline bounds its Redis commands
	return o, nil
}

// clusterReload is how old go-redis's copy of the Cluster slot map may get
// before it is read again. go-redis's default (60 s) kept every request for
// the slots of a dead primary failing for up to a minute after its replica
// was promoted: go-redis reloads the map on MOVED, but a dead node answers
// nothing. One CLUSTER SLOTS a second per instance is cheap.
const clusterReload = time.Second

// newRedisClient builds the client for opts: a Cluster client that rereads
// the slot map every clusterReload, a Sentinel-backed failover client, or a
// plain one.
func newRedisClient(opts *redis.UniversalOptions) redis.UniversalClient {
	if opts.IsClusterMode {
		co := opts.Cluster()
		co.ClusterStateReloadInterval = clusterReload
		return redis.NewClusterClient(co)
	}
	return redis.NewUniversalClient(opts)
}

// failFastRetries keeps a URL's max_retries but lowers go-redis's default
// (3 retries, 5 dial attempts 100 ms apart), which held every request for
// about 0.4 s when Redis was down before failing closed anyway.
func failFastRetries(n int) int {
	if n > 0 && n < 3 {
		return n
	}
	return 1
}
