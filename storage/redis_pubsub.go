package storage

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Client-record changes are announced on the Redis pub/sub channel
// P:clients:changed (the payload is the client ID), published inside the
// same MULTI or pipeline that writes the record: CreateClient,
// UpdateClient, DeleteClient and DecideLine (when it widens the maximum).
// No caller can forget it, and it costs no extra round trip. Classic
// PUBLISH reaches every subscriber of a Redis Cluster, whatever node each
// is connected to.

// subscribeTimeout bounds the wait for a subscription's confirmation.
const subscribeTimeout = 10 * time.Second

// SubscribeClientChanges calls onChange with the ID of every client whose
// record changes, from any process sharing this Redis and prefix, until ctx
// is done or stop is called (stop waits for the last call to return). It
// returns once the subscription is confirmed. onChange("") means "forget
// every client": the subscription was lost and re-established (go-redis
// reconnects and re-subscribes on its own), so messages may have been
// missed. onChange runs on one goroutine and must not block for long.
func (r *Redis) SubscribeClientChanges(ctx context.Context, onChange func(clientID string)) (stop func(), err error) {
	return r.follow(ctx, r.k.clientChanges(), "client changes", func(payload string) {
		if validID(payload) {
			onChange(payload)
		}
	}, func() { onChange("") })
}

// follow subscribes to channel until ctx is done or stop is called (stop
// waits for the last callback to return), returning once the subscription
// is confirmed. onMessage gets each payload; onResubscribe is called when
// go-redis re-established a lost subscription, so messages may have been
// missed. Both run on one goroutine and must not block for long. onEnd, if
// set, runs when following stops.
func (r *Redis) follow(ctx context.Context, channel, what string, onMessage func(payload string), onResubscribe func(), onEnd ...func()) (stop func(), err error) {
	ps := r.rdb.Subscribe(ctx, channel)
	if _, err := ps.ReceiveTimeout(ctx, subscribeTimeout); err != nil { // the subscription's confirmation
		_ = ps.Close()
		return nil, unavailable("subscribe to "+what, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	ch := ps.ChannelWithSubscriptions()
	go func() {
		defer close(done)
		defer ps.Close()
		for _, f := range onEnd {
			defer f()
		}
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				switch m := m.(type) {
				case *redis.Message:
					onMessage(m.Payload)
				case *redis.Subscription:
					// A confirmation after the first one is a re-subscription.
					if m.Kind == "subscribe" {
						onResubscribe()
					}
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}, nil
}

// publishClientChange queues the announcement of a changed client on p
// (a MULTI or pipeline that writes the client's record).
func (r *Redis) publishClientChange(ctx context.Context, p redis.Pipeliner, clientID string) {
	p.Publish(ctx, r.k.clientChanges(), clientID)
}
