package main

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestRedisOptions(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		wantErr string
		check   func(*redis.UniversalOptions) bool
	}{
		{name: "one server with db, user, pool and timeouts",
			url: "redis://app:s3cret@10.0.0.1:6380/2?pool_size=40&dial_timeout=2s&read_timeout=500ms&write_timeout=1s",
			check: func(o *redis.UniversalOptions) bool {
				return len(o.Addrs) == 1 && o.Addrs[0] == "10.0.0.1:6380" && o.DB == 2 && o.Username == "app" && o.Password == "s3cret" &&
					o.PoolSize == 40 && o.DialTimeout == 2*time.Second && o.ReadTimeout == 500*time.Millisecond &&
					o.WriteTimeout == time.Second && !o.IsClusterMode && o.MasterName == "" && o.TLSConfig == nil &&
					o.MaxRetries == 1 && o.DialerRetries == 1
			}},
		{name: "tls", url: "rediss://:pw@redis.internal:6379",
			check: func(o *redis.UniversalOptions) bool {
				return o.TLSConfig != nil && o.TLSConfig.ServerName == "redis.internal" && o.Password == "pw"
			}},
		{name: "cluster seeds", url: "redis+cluster://u:p@10.0.0.1:7000?addr=10.0.0.2:7000&addr=10.0.0.3:7000&pool_size=20",
			check: func(o *redis.UniversalOptions) bool {
				return o.IsClusterMode && len(o.Addrs) == 3 && o.Addrs[2] == "10.0.0.3:7000" && o.Username == "u" && o.Password == "p" &&
					o.PoolSize == 20 && o.TLSConfig == nil && redis.NewUniversalClient(o) != nil
			}},
		{name: "cluster over tls", url: "rediss+cluster://10.0.0.1:7000",
			check: func(o *redis.UniversalOptions) bool { return o.IsClusterMode && o.TLSConfig != nil }},
		{name: "sentinel", url: "redis+sentinel://:sentpw@10.0.0.1:26379?addr=10.0.0.2:26379&addr=10.0.0.3:26379&master_name=main&password=redispw&db=1&read_timeout=2s",
			check: func(o *redis.UniversalOptions) bool {
				return o.MasterName == "main" && len(o.Addrs) == 3 && o.Addrs[0] == "10.0.0.1:26379" &&
					o.SentinelPassword == "sentpw" && o.Password == "redispw" && o.DB == 1 && o.ReadTimeout == 2*time.Second &&
					!o.IsClusterMode && o.TLSConfig == nil
			}},
		{name: "sentinel over tls", url: "rediss+sentinel://s1:26379?master_name=main",
			check: func(o *redis.UniversalOptions) bool { return o.MasterName == "main" && o.TLSConfig != nil }},
		{name: "sentinel needs a master name", url: "redis+sentinel://10.0.0.1:26379", wantErr: "master_name"},
		{name: "unknown scheme", url: "mysql://x", wantErr: "scheme"},
		{name: "unknown mode", url: "redis+ring://x:1", wantErr: "scheme"},
		{name: "unknown option (go-redis refuses it)", url: "redis://x:1?pool=3", wantErr: "pool"},
		{name: "bad db", url: "redis://x:1/abc", wantErr: "database"},
		{name: "reads from replicas refused", url: "redis+cluster://x:1?read_only=true", wantErr: "read_only"},
		{name: "replica-only sentinel refused", url: "redis+sentinel://x:1?master_name=m&replica_only=true", wantErr: "replica_only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := redisOptions(tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(o) {
				t.Fatalf("options %+v", *o)
			}
		})
	}
}
