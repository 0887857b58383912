package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/scopegate/scopegate/oauth/oautherr"
	"github.com/scopegate/scopegate/oauth/resource"
)

// demoSite is one website's data. A website comes into being, with a
// little sample data, the first time a route names it.
type demoSite struct {
	profiles map[string]demoProfile
	data     map[string]map[string]any // people id -> data
	convs    map[string]*demoConv
	online   bool
}

type demoProfile struct {
	PeopleID string `json:"people_id"`
	Email    string `json:"email"`
	Nickname string `json:"nickname"`
}

type demoConv struct {
	State    string        `json:"state"`
	Messages []demoMessage `json:"messages"`
}

type demoMessage struct {
	Fingerprint uint64 `json:"fingerprint"`
	From        string `json:"from"` // user (the visitor) or operator
	Content     string `json:"content"`
	Timestamp   int64  `json:"timestamp"`
}

// site returns a website's data, creating it with sample data. a.mu held.
func (a *demoAPI) site(id string) *demoSite {
	s, ok := a.sites[id]
	if !ok {
		s = &demoSite{
			profiles: map[string]demoProfile{"people-1": {PeopleID: "people-1", Email: "ada@example.test", Nickname: "Ada"}},
			data:     map[string]map[string]any{"people-1": {"plan": "pro", "signed_up": "2026-01-04"}},
			convs: map[string]*demoConv{"session_demo": {State: "pending", Messages: []demoMessage{
				{Fingerprint: 1, From: "user", Content: "Hello, is my order on its way?", Timestamp: 1767225600000},
			}}},
		}
		a.sites[id] = s
	}
	return s
}

// handler routes the demo API. Each route names the scope it needs; the
// permission follows the method (POST, PUT, PATCH, DELETE: write).
func (a *demoAPI) handler() http.Handler {
	m := http.NewServeMux()
	route := func(pattern, scope string, h http.HandlerFunc) {
		m.Handle(pattern, a.rs.Require(scope)(h))
	}
	m.HandleFunc("GET /{$}", a.index)
	route("GET /v1/website/{website_id}/people/profiles/{page_number}", "website:people:profiles", a.listProfiles)
	route("POST /v1/website/{website_id}/people/profile", "website:people:profiles", a.addProfile)
	route("GET /v1/website/{website_id}/people/data/{people_id}", "website:people:data", a.getData)
	route("PATCH /v1/website/{website_id}/people/data/{people_id}", "website:people:data", a.updateData)
	route("GET /v1/website/{website_id}/conversation/{session_id}/messages", "website:conversation:messages", a.listMessages)
	route("POST /v1/website/{website_id}/conversation/{session_id}/message", "website:conversation:messages", a.sendMessage)
	route("PATCH /v1/website/{website_id}/conversation/{session_id}/state", "website:conversation:states", a.changeState)
	// A plugin scope: no website binding; the token is the plugin's own
	// (client credentials), and it bills for itself only.
	route("POST /v1/plugins/subscription/{website_id}/{plugin_id}/bill/usage", "plugin:subscription:bill", a.billUsage)
	// Any active token bound to the website may open the stream; what it
	// receives depends on its scopes.
	m.Handle("GET /v1/website/{website_id}/realtime", a.rs.Authenticate(resource.WebsiteParam("website_id"))(http.HandlerFunc(a.realtime)))
	return m
}

// reply writes the vendor API's envelope: {"error", "reason", "data"}.
func reply(w http.ResponseWriter, status int, reason string, data any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": status >= 400, "reason": reason, "data": data})
}

// decode reads a small JSON body into v; false (after answering 400) when
// it is not one.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		reply(w, http.StatusBadRequest, "invalid_data", err.Error())
		return false
	}
	return true
}

func (a *demoAPI) index(w http.ResponseWriter, r *http.Request) {
	reply(w, http.StatusOK, "scopegate demo REST API", map[string]any{
		"routes": []string{
			"GET /v1/website/{website_id}/people/profiles/{page_number}   website:people:profiles:read",
			"POST /v1/website/{website_id}/people/profile                 website:people:profiles:write",
			"GET /v1/website/{website_id}/people/data/{people_id}         website:people:data:read",
			"PATCH /v1/website/{website_id}/people/data/{people_id}       website:people:data:write",
			"GET /v1/website/{website_id}/conversation/{session_id}/messages  website:conversation:messages:read",
			"POST /v1/website/{website_id}/conversation/{session_id}/message  website:conversation:messages:write",
			"PATCH /v1/website/{website_id}/conversation/{session_id}/state   website:conversation:states:write",
			"POST /v1/plugins/subscription/{website_id}/{plugin_id}/bill/usage  plugin:subscription:bill:write",
			"GET /v1/website/{website_id}/realtime   (Server-Sent Events, filtered by scope)",
		},
		"sample": map[string]string{"people_id": "people-1", "session_id": "session_demo"},
	})
}

func (a *demoAPI) listProfiles(w http.ResponseWriter, r *http.Request) {
	page, err := strconv.Atoi(r.PathValue("page_number"))
	if err != nil || page < 1 || page > 1000 {
		reply(w, http.StatusBadRequest, "invalid_data", "page_number is a number from 1")
		return
	}
	a.mu.Lock()
	s := a.site(r.PathValue("website_id"))
	out := make([]demoProfile, 0, len(s.profiles))
	for _, id := range slices.Sorted(maps.Keys(s.profiles)) {
		out = append(out, s.profiles[id])
	}
	a.mu.Unlock()
	const perPage = 20
	lo := min((page-1)*perPage, len(out))
	reply(w, http.StatusOK, "listed", out[lo:min(lo+perPage, len(out))])
}

func (a *demoAPI) addProfile(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email  string `json:"email"`
		Person struct {
			Nickname string `json:"nickname"`
		} `json:"person"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Email == "" || len(in.Email) > 200 || len(in.Person.Nickname) > 200 {
		reply(w, http.StatusBadRequest, "invalid_data", "email is required (at most 200 characters)")
		return
	}
	a.mu.Lock()
	s := a.site(r.PathValue("website_id"))
	if len(s.profiles) >= 1000 {
		a.mu.Unlock()
		reply(w, http.StatusTooManyRequests, "quota_limit_exceeded", "the demo keeps at most 1000 profiles per website")
		return
	}
	p := demoProfile{PeopleID: fmt.Sprintf("people-%d", len(s.profiles)+1), Email: in.Email, Nickname: in.Person.Nickname}
	for s.profiles[p.PeopleID] != (demoProfile{}) {
		p.PeopleID += "x"
	}
	s.profiles[p.PeopleID] = p
	s.data[p.PeopleID] = map[string]any{}
	a.mu.Unlock()
	reply(w, http.StatusCreated, "added", map[string]string{"people_id": p.PeopleID})
}

func (a *demoAPI) getData(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	d, ok := a.site(r.PathValue("website_id")).data[r.PathValue("people_id")]
	d = maps.Clone(d)
	a.mu.Unlock()
	if !ok {
		reply(w, http.StatusNotFound, "people_not_found", nil)
		return
	}
	reply(w, http.StatusOK, "resolved", map[string]any{"data": d})
}

func (a *demoAPI) updateData(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Data map[string]any `json:"data"`
	}
	if !decode(w, r, &in) {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	d, ok := a.site(r.PathValue("website_id")).data[r.PathValue("people_id")]
	if !ok {
		reply(w, http.StatusNotFound, "people_not_found", nil)
		return
	}
	if len(d)+len(in.Data) > 100 {
		reply(w, http.StatusBadRequest, "invalid_data", "at most 100 keys")
		return
	}
	maps.Copy(d, in.Data)
	reply(w, http.StatusOK, "updated", nil)
}

func (a *demoAPI) listMessages(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	c, ok := a.site(r.PathValue("website_id")).convs[r.PathValue("session_id")]
	var msgs []demoMessage
	if ok {
		msgs = slices.Clone(c.Messages)
	}
	a.mu.Unlock()
	if !ok {
		reply(w, http.StatusNotFound, "session_not_found", nil)
		return
	}
	reply(w, http.StatusOK, "listed", msgs)
}

// sendMessage is an operator's (the plugin's) message; the realtime stream
// says message:received, which only messages:read tokens get.
func (a *demoAPI) sendMessage(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Type    string `json:"type"`
		From    string `json:"from"`
		Origin  string `json:"origin"`
		Content string `json:"content"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Content == "" || len(in.Content) > 10000 || (in.Type != "" && in.Type != "text") {
		reply(w, http.StatusBadRequest, "invalid_data", "content is required text (at most 10000 characters)")
		return
	}
	website, session := r.PathValue("website_id"), r.PathValue("session_id")
	a.mu.Lock()
	c, ok := a.site(website).convs[session]
	if !ok {
		a.mu.Unlock()
		reply(w, http.StatusNotFound, "session_not_found", nil)
		return
	}
	if len(c.Messages) >= 1000 {
		c.Messages = c.Messages[1:]
	}
	m := demoMessage{Fingerprint: uint64(time.Now().UnixNano()), From: "operator", Content: in.Content, Timestamp: time.Now().UnixMilli()}
	c.Messages = append(c.Messages, m)
	a.mu.Unlock()
	id := a.publish(website, "message:received", map[string]any{"session_id": session, "from": m.From, "content": m.Content, "fingerprint": m.Fingerprint})
	reply(w, http.StatusAccepted, "dispatched", map[string]any{"fingerprint": m.Fingerprint, "event_id": id})
}

func (a *demoAPI) changeState(w http.ResponseWriter, r *http.Request) {
	var in struct {
		State string `json:"state"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.State != "pending" && in.State != "unresolved" && in.State != "resolved" {
		reply(w, http.StatusBadRequest, "invalid_data", "state is pending, unresolved or resolved")
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.site(r.PathValue("website_id")).convs[r.PathValue("session_id")]
	if !ok {
		reply(w, http.StatusNotFound, "session_not_found", nil)
		return
	}
	c.State = in.State
	reply(w, http.StatusOK, "updated", nil)
}

// billUsage records metered usage a plugin bills a subscribed website for.
func (a *demoAPI) billUsage(w http.ResponseWriter, r *http.Request) {
	tok, _ := resource.FromContext(r.Context())
	if r.PathValue("plugin_id") != tok.ClientID {
		reply(w, http.StatusForbidden, "not_allowed", "a plugin bills usage for itself only")
		return
	}
	var in struct {
		Name  string `json:"name"`
		Units int    `json:"units"`
		Price int    `json:"price"`
	}
	if !decode(w, r, &in) {
		return
	}
	if in.Name == "" || len(in.Name) > 200 || in.Units < 1 || in.Price < 0 {
		reply(w, http.StatusBadRequest, "invalid_data", "name, units (1 or more) and price (0 or more) are required")
		return
	}
	reply(w, http.StatusAccepted, "reported", map[string]any{"plugin_id": tok.ClientID, "website_id": r.PathValue("website_id"), "units": in.Units})
}

// realtime streams the website's events as Server-Sent Events, each only if
// the token may receive it (resource.MayReceive). The token is checked
// again every second (through the cache), so a revoked or narrowed token
// stops receiving within the cache TTL and a second.
func (a *demoAPI) realtime(w http.ResponseWriter, r *http.Request) {
	tok, _ := resource.FromContext(r.Context())
	website := r.PathValue("website_id")
	// Subscribe before the first byte goes out: a client that has seen the
	// stream open misses nothing published after.
	sub := a.subscribe(website)
	defer a.unsubscribe(website, sub)
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, ": scopegate demo realtime for %s; events filtered by the token's scopes\n\n", website)
	if rc.Flush() != nil {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	recheck := time.NewTicker(time.Second)
	defer recheck.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.done:
			return
		case <-recheck.C:
			t, err := a.rs.Authorize(ctx, r.Header.Values("Authorization"), r.Method, r.PathValue, resource.AnyScope(resource.WebsiteParam("website_id")))
			if err != nil {
				reason := "temporarily_unavailable"
				var e *oautherr.Error
				if errors.As(err, &e) {
					reason = e.Code
				}
				fmt.Fprintf(w, "event: error\ndata: {\"error\":%q}\n\n", reason)
				_ = rc.Flush()
				return
			}
			tok = t
			fmt.Fprint(w, ": keep-alive\n\n")
		case ev, ok := <-sub:
			if !ok {
				return // too slow a reader: the client reconnects
			}
			if !resource.MayReceive(tok, ev) {
				continue
			}
			data, _ := json.Marshal(ev.Data)
			fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", ev.ID, ev.Name, data)
		}
		if rc.Flush() != nil {
			return
		}
	}
}

func (a *demoAPI) subscribe(website string) chan resource.Event {
	ch := make(chan resource.Event, 64)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.subs[website] == nil {
		a.subs[website] = map[chan resource.Event]struct{}{}
	}
	a.subs[website][ch] = struct{}{}
	return ch
}

func (a *demoAPI) unsubscribe(website string, ch chan resource.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.subs[website][ch]; ok {
		delete(a.subs[website], ch)
		close(ch)
	}
	if len(a.subs[website]) == 0 {
		delete(a.subs, website)
	}
}

// publish sends an event to every stream open on the website and returns
// its id. A subscriber whose buffer is full is dropped (its stream ends)
// rather than silently missing an event.
func (a *demoAPI) publish(website, name string, data any) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	ev := resource.Event{ID: strconv.FormatUint(a.seq.Add(1), 10), Name: name, WebsiteID: website, Data: data}
	for ch := range a.subs[website] {
		select {
		case ch <- ev:
		default:
			delete(a.subs[website], ch)
			close(ch)
		}
	}
	return ev.ID
}

// makeUpEvents plays the visitors: every interval, each website with an
// open stream gets the next of a visitor's message, an availability change,
// a new conversation and an email set.
func (a *demoAPI) makeUpEvents(ctx context.Context) {
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.mu.Lock()
		websites := slices.Sorted(maps.Keys(a.subs))
		a.mu.Unlock()
		for _, website := range websites {
			switch n % 4 {
			case 0:
				a.mu.Lock()
				c := a.site(website).convs["session_demo"]
				m := demoMessage{Fingerprint: uint64(time.Now().UnixNano()), From: "user", Content: "Any news about my order?", Timestamp: time.Now().UnixMilli()}
				if len(c.Messages) >= 1000 {
					c.Messages = c.Messages[1:]
				}
				c.Messages = append(c.Messages, m)
				a.mu.Unlock()
				a.publish(website, "message:send", map[string]any{"session_id": "session_demo", "from": m.From, "content": m.Content, "fingerprint": m.Fingerprint})
			case 1:
				a.mu.Lock()
				s := a.site(website)
				s.online = !s.online
				avail := map[bool]string{true: "online", false: "offline"}[s.online]
				a.mu.Unlock()
				a.publish(website, "session:update_availability", map[string]any{"session_id": "session_demo", "availability": avail})
			case 2:
				a.publish(website, "session:request:initiated", map[string]any{"session_id": fmt.Sprintf("session_%d", n)})
			case 3:
				a.publish(website, "session:set_email", map[string]any{"session_id": "session_demo", "email": "ada@example.test"})
			}
		}
	}
}
