package resource

import (
	"context"

	"github.com/scopegate/scopegate/scopes"
)

// EventRule is one row of the realtime event table: the scope, with its
// permission, a token must hold to receive the event, and where that comes
// from.
type EventRule struct {
	Event  string
	Scope  scopes.Scope
	Source string
}

// rtmReference is the vendor's RTM API reference, which the source document
// (seed/marketplace-scopes.md: "the RTM API event that you want to receive
// ... check the RTM API Reference for required scopes per event") defers to
// for the scope each event needs.
const rtmReference = "RTM API Reference v1 (docs.crisp.chat/references/rtm-api/v1/)"

// EventRules returns the realtime event table: only events whose required
// scope the source document's RTM reference states. Receiving an event can
// need a write grant (session:request:initiated). Events not in the table
// are never delivered. The slice is a fresh copy.
func EventRules() []EventRule {
	msgRead := scopes.Scope{Name: "website:conversation:messages", Perm: scopes.Read}
	sessRead := scopes.Scope{Name: "website:conversation:sessions", Perm: scopes.Read}
	// The session rows were read in the reference's Session Events list;
	// the message rows are the reference's Message Events as issue 10 quotes
	// them. Nothing else is here because nothing else was checked.
	return []EventRule{
		// Message events: a plugin that may only send messages
		// (messages:write, the source document's own example) receives none.
		{"message:send", msgRead, rtmReference + ", Message Events: website:conversation:messages + read"},
		{"message:received", msgRead, rtmReference + ", Message Events: website:conversation:messages + read"},
		// Session events.
		{"session:update_availability", sessRead, rtmReference + ", Session Events: website:conversation:sessions + read"},
		{"session:update_verify", sessRead, rtmReference + ", Session Events: website:conversation:sessions + read"},
		{"session:set_email", sessRead, rtmReference + ", Session Events: website:conversation:sessions + read"},
		{"session:request:initiated", scopes.Scope{Name: "website:conversation:initiate", Perm: scopes.Write},
			rtmReference + ", Session Events: website:conversation:initiate + write"},
	}
}

// EventScope returns the scope a token needs to receive the named event;
// false for an event outside the table, which nobody receives.
func EventScope(event string) (scopes.Scope, bool) {
	for _, r := range EventRules() {
		if r.Event == event {
			return r.Scope, true
		}
	}
	return scopes.Scope{}, false
}

// Event is one realtime event about a website.
type Event struct {
	ID        string // optional, for the transport (an SSE id, for example)
	Name      string // the RTM event name, such as "message:received"
	WebsiteID string
	Data      any
}

// MayReceive reports whether t may receive ev: t is active, bound to the
// event's website, and holds the scope the event needs. Unknown events are
// denied.
func MayReceive(t Token, ev Event) bool {
	need, ok := EventScope(ev.Name)
	return ok && t.Active && ev.WebsiteID != "" && ev.WebsiteID == t.WebsiteID && t.Scope.Contains(need)
}

// FilterEvents passes on, in order, the events of in that t may receive,
// until in is closed or ctx is done; then it closes the returned channel.
func FilterEvents(ctx context.Context, t Token, in <-chan Event) <-chan Event {
	out := make(chan Event)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-in:
				if !ok {
					return
				}
				if !MayReceive(t, ev) {
					continue
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
