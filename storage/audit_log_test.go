package storage

import (
	"context"
	"testing"
	"time"
)

// TestAuditLogRecord: the one writer stamps the time, fills in the actor
// only when the event names none, and still appends when the caller's
// context is already cancelled.
func TestAuditLogRecord(t *testing.T) {
	s, _ := testStore(t, RedisOptions{})
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	log := AuditLog{Store: s, Now: func() time.Time { return at }}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	log.Record(cancelled, "admin:ops", Event{Kind: KindRevokeClient, ClientID: "c1"})
	log.Record(context.Background(), "admin:ops", Event{Kind: KindTokenRevoked, Actor: "client:c2", ClientID: "c2"})

	evs, err := s.ListEvents(context.Background(), EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Event{}
	for _, e := range evs {
		got[e.ClientID] = e
	}
	for _, tc := range []struct{ client, kind, actor string }{
		{"c1", KindRevokeClient, "admin:ops"},
		{"c2", KindTokenRevoked, "client:c2"},
	} {
		e, ok := got[tc.client]
		if !ok {
			t.Fatalf("no event for %s in %+v", tc.client, evs)
		}
		if e.Kind != tc.kind || e.Actor != tc.actor || !e.Time.Equal(at) {
			t.Errorf("%s: got kind %q actor %q time %v, want %q %q %v", tc.client, e.Kind, e.Actor, e.Time, tc.kind, tc.actor, at)
		}
	}
}
