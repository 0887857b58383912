package resource_test

import (
	"context"
	"slices"
	"testing"

	"github.com/scopegate/scopegate/oauth/resource"
	"github.com/scopegate/scopegate/scopes"
)

func TestEventTable(t *testing.T) {
	tests := []struct {
		event string
		want  string // scope token; "" for no entry
	}{
		{"message:send", "website:conversation:messages:read"},
		{"message:received", "website:conversation:messages:read"},
		{"session:update_availability", "website:conversation:sessions:read"},
		{"session:request:initiated", "website:conversation:initiate:write"},
		{"message:compose:send", ""},
		{"", ""},
		{"MESSAGE:SEND", ""},
	}
	for _, tt := range tests {
		got, ok := resource.EventScope(tt.event)
		if ok != (tt.want != "") || (ok && got.String() != tt.want) {
			t.Errorf("EventScope(%q) = %v, %v; want %q", tt.event, got, ok, tt.want)
		}
	}
	seen := map[string]bool{}
	for _, r := range resource.EventRules() {
		if seen[r.Event] {
			t.Errorf("event %q twice", r.Event)
		}
		seen[r.Event] = true
		if d, ok := scopes.Lookup(r.Scope.Name); !ok || d.Kind != scopes.KindWebsite || r.Source == "" {
			t.Errorf("event %q: scope %v (catalogue %v) source %q", r.Event, r.Scope, ok, r.Source)
		}
	}
}

func TestFilterEvents(t *testing.T) {
	events := []resource.Event{
		{Name: "message:send", WebsiteID: "site-a"},
		{Name: "message:received", WebsiteID: "site-a"},
		{Name: "session:update_availability", WebsiteID: "site-a"},
		{Name: "session:request:initiated", WebsiteID: "site-a"},
		{Name: "message:received", WebsiteID: "site-b"},
		{Name: "people:profile:created", WebsiteID: "site-a"}, // not in the table: nobody
	}
	tests := []struct {
		name string
		tok  resource.Token
		want []string
	}{
		{"messages read", resource.Token{Active: true, WebsiteID: "site-a", Scope: scopes.MustParse("website:conversation:messages:read")},
			[]string{"message:send", "message:received"}},
		{"messages write only gets no message", resource.Token{Active: true, WebsiteID: "site-a",
			Scope: scopes.MustParse("website:conversation:sessions:read website:conversation:messages:write")},
			[]string{"session:update_availability"}},
		{"initiate write receives initiated", resource.Token{Active: true, WebsiteID: "site-a", Scope: scopes.MustParse("website:conversation:initiate:write")},
			[]string{"session:request:initiated"}},
		{"other website", resource.Token{Active: true, WebsiteID: "site-b", Scope: scopes.MustParse("website:conversation:messages:read")},
			[]string{"message:received"}},
		{"inactive", resource.Token{WebsiteID: "site-a", Scope: scopes.MustParse("website:conversation:messages:read")}, nil},
		{"no website", resource.Token{Active: true, Scope: scopes.All()}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := make(chan resource.Event, len(events))
			for _, ev := range events {
				in <- ev
			}
			close(in)
			var got []string
			for ev := range resource.FilterEvents(context.Background(), tt.tok, in) {
				got = append(got, ev.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFilterEventsStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan resource.Event) // never closed
	out := resource.FilterEvents(ctx, resource.Token{}, in)
	cancel()
	if _, ok := <-out; ok {
		t.Fatal("an event after cancel")
	}
}
