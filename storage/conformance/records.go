package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/storage/token"
)

// jsonEq compares two records by their JSON form (times compare by
// instant and offset, not by *time.Location).
func (e *env) jsonEq(got, want any, what string) {
	e.t.Helper()
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	if err1 != nil || err2 != nil || string(g) != string(w) {
		e.t.Errorf("%s =\n  %s\nwant\n  %s", what, g, w)
	}
}

func testPing(e *env) { e.must(e.s.Ping(e.ctx), "Ping") }

func testClients(e *env) {
	c1 := e.client("c1")
	c0 := e.client("c0")
	got, err := e.s.GetClient(e.ctx, "c1")
	e.must(err, "GetClient")
	e.jsonEq(got, c1, "GetClient")
	e.wantErr(e.s.CreateClient(e.ctx, c1), storage.ErrAlreadyExists, "CreateClient again")
	for _, id := range []string{"nope", "", "a b"} {
		_, err := e.s.GetClient(e.ctx, id)
		e.wantErr(err, storage.ErrNotFound, "GetClient("+id+")")
	}
	for _, id := range []string{"", "a b", "x{y}", "line\nbreak"} {
		if err := e.s.CreateClient(e.ctx, storage.Client{ID: id}); err == nil || errors.Is(err, storage.ErrUnavailable) {
			e.t.Errorf("CreateClient(%q) = %v, want a validation error", id, err)
		}
	}

	e.f.Clock.Advance(time.Minute)
	up, err := e.s.UpdateClient(e.ctx, "c1", func(c storage.Client) (storage.Client, error) {
		c.Name, c.Status = "Renamed", storage.Suspended
		c.Approved = narrower()
		return c, nil
	})
	e.must(err, "UpdateClient")
	want := c1
	want.Name, want.Status, want.Approved, want.UpdatedAt = "Renamed", storage.Suspended, narrower(), e.now()
	e.jsonEq(up, want, "UpdateClient result")
	got, err = e.s.GetClient(e.ctx, "c1")
	e.must(err, "GetClient")
	e.jsonEq(got, want, "GetClient after update")

	refused := errors.New("refused by fn")
	_, err = e.s.UpdateClient(e.ctx, "c1", func(c storage.Client) (storage.Client, error) {
		c.Name = "not stored"
		return c, refused
	})
	e.wantErr(err, refused, "UpdateClient with a failing fn")
	_, err = e.s.UpdateClient(e.ctx, "c1", func(c storage.Client) (storage.Client, error) {
		c.ID = "c9"
		return c, nil
	})
	if err == nil {
		e.t.Error("UpdateClient changing the ID: no error")
	}
	got, err = e.s.GetClient(e.ctx, "c1")
	e.must(err, "GetClient")
	e.jsonEq(got, want, "GetClient after refused updates")
	called := false
	_, err = e.s.UpdateClient(e.ctx, "nope", func(c storage.Client) (storage.Client, error) { called = true; return c, nil })
	e.wantErr(err, storage.ErrNotFound, "UpdateClient(nope)")
	if called {
		e.t.Error("UpdateClient(nope) called fn")
	}

	list, err := e.s.ListClients(e.ctx)
	e.must(err, "ListClients")
	e.jsonEq(list, []storage.Client{c0, want}, "ListClients")

	e.must(e.s.DeleteClient(e.ctx, "c1"), "DeleteClient")
	_, err = e.s.GetClient(e.ctx, "c1")
	e.wantErr(err, storage.ErrNotFound, "GetClient after delete")
	e.wantErr(e.s.DeleteClient(e.ctx, "c1"), storage.ErrNotFound, "DeleteClient again")
	list, err = e.s.ListClients(e.ctx)
	e.must(err, "ListClients")
	e.jsonEq(list, []storage.Client{c0}, "ListClients after delete")
}

func testClientSecrets(e *env) {
	old, cur := token.NewSecret(), token.NewSecret()
	c := storage.Client{ID: "c1", Name: "P", Type: storage.Confidential, Role: storage.RolePlugin, Status: storage.Active,
		Secrets: []storage.SecretHash{
			storage.HashSecret(old, e.now().Add(time.Hour)), // being rotated out
			storage.HashSecret(cur, time.Time{}),
		}}
	e.must(e.s.CreateClient(e.ctx, c), "CreateClient")
	got, err := e.s.GetClient(e.ctx, "c1")
	e.must(err, "GetClient")
	later := e.now().Add(2 * time.Hour)
	for _, tc := range []struct {
		name   string
		secret string
		at     time.Time
		want   bool
	}{
		{"old during rotation", old, e.now(), true},
		{"current", cur, e.now(), true},
		{"old after rotation", old, later, false},
		{"current later", cur, later, true},
		{"wrong", token.NewSecret(), e.now(), false},
		{"empty", "", e.now(), false},
		{"prefix of current", cur[:20], e.now(), false},
	} {
		if ok := got.VerifySecret(tc.secret, tc.at); ok != tc.want {
			e.t.Errorf("VerifySecret(%s) = %v, want %v", tc.name, ok, tc.want)
		}
	}
}

func testClientUpdateRace(e *env) {
	e.client("c1")
	const n = 50
	errs := race(n, func(i int) error {
		_, err := e.s.UpdateClient(e.ctx, "c1", func(c storage.Client) (storage.Client, error) {
			c.RedirectURIs = append(c.RedirectURIs, fmt.Sprintf("https://plugin.example/%d", i))
			return c, nil
		})
		return err
	})
	var won []string
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, fmt.Sprintf("https://plugin.example/%d", i))
		case !errors.Is(err, storage.ErrConflict):
			e.t.Errorf("goroutine %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if len(won) == 0 {
		e.t.Fatal("no concurrent update succeeded")
	}
	c, err := e.s.GetClient(e.ctx, "c1")
	e.must(err, "GetClient")
	got := slices.Clone(c.RedirectURIs[1:])
	slices.Sort(got)
	slices.Sort(won)
	if !slices.Equal(got, won) {
		e.t.Errorf("after %d successful concurrent updates the client has %d of them: lost updates", len(won), len(got))
	}
}

func testOperators(e *env) {
	o := storage.Operator{ID: "op1", Email: "Alice@Example.COM", PasswordHash: []byte("$argon2id$v=19$..."),
		Websites: []string{"w1", "w2"}, CreatedAt: e.now()}
	e.must(e.s.CreateOperator(e.ctx, o), "CreateOperator")
	want := o
	want.Email = "alice@example.com"
	got, err := e.s.GetOperator(e.ctx, "op1")
	e.must(err, "GetOperator")
	e.jsonEq(got, want, "GetOperator")
	got, err = e.s.GetOperatorByEmail(e.ctx, "ALICE@example.com")
	e.must(err, "GetOperatorByEmail")
	e.jsonEq(got, want, "GetOperatorByEmail")

	e.wantErr(e.s.CreateOperator(e.ctx, storage.Operator{ID: "op2", Email: "alice@EXAMPLE.com"}), storage.ErrAlreadyExists, "CreateOperator with a taken e-mail")
	e.wantErr(e.s.CreateOperator(e.ctx, storage.Operator{ID: "op1", Email: "bob@example.com"}), storage.ErrAlreadyExists, "CreateOperator with a taken ID")
	// The e-mail of the refused operator is free again.
	e.must(e.s.CreateOperator(e.ctx, storage.Operator{ID: "op3", Email: "bob@example.com"}), "CreateOperator(bob)")
	got, err = e.s.GetOperatorByEmail(e.ctx, "bob@example.com")
	e.must(err, "GetOperatorByEmail(bob)")
	if got.ID != "op3" {
		e.t.Errorf("bob is %s, want op3", got.ID)
	}
	_, err = e.s.GetOperator(e.ctx, "nope")
	e.wantErr(err, storage.ErrNotFound, "GetOperator(nope)")
	_, err = e.s.GetOperatorByEmail(e.ctx, "nobody@example.com")
	e.wantErr(err, storage.ErrNotFound, "GetOperatorByEmail(nobody)")
}

func testWebsites(e *env) {
	e.must(e.s.PutWebsite(e.ctx, storage.Website{ID: "w1", Name: "Shop"}), "PutWebsite")
	e.must(e.s.PutWebsite(e.ctx, storage.Website{ID: "w1", Name: "Shop, renamed"}), "PutWebsite again")
	got, err := e.s.GetWebsite(e.ctx, "w1")
	e.must(err, "GetWebsite")
	if got != (storage.Website{ID: "w1", Name: "Shop, renamed"}) {
		e.t.Errorf("GetWebsite = %+v", got)
	}
	_, err = e.s.GetWebsite(e.ctx, "w2")
	e.wantErr(err, storage.ErrNotFound, "GetWebsite(w2)")
}

func testSessions(e *env) {
	secret := token.NewSecret()
	s := storage.Session{OperatorID: "op1", CSRF: "csrf-1", ExpiresAt: e.now().Add(time.Hour)}
	e.must(e.s.CreateSession(e.ctx, secret, s), "CreateSession")
	got, err := e.s.GetSession(e.ctx, secret)
	e.must(err, "GetSession")
	if got.OperatorID != s.OperatorID || got.CSRF != s.CSRF || !got.ExpiresAt.Equal(s.ExpiresAt) {
		e.t.Errorf("GetSession = %+v, want %+v", got, s)
	}
	for name, v := range map[string]string{"other": token.NewSecret(), "empty": ""} {
		_, err := e.s.GetSession(e.ctx, v)
		e.wantErr(err, storage.ErrNotFound, "GetSession("+name+")")
	}
	e.f.Clock.Advance(time.Hour)
	_, err = e.s.GetSession(e.ctx, secret)
	e.wantErr(err, storage.ErrNotFound, "GetSession after expiry")

	other := token.NewSecret()
	e.must(e.s.CreateSession(e.ctx, other, storage.Session{OperatorID: "op2", ExpiresAt: e.now().Add(time.Hour)}), "CreateSession")
	e.must(e.s.DeleteSession(e.ctx, other), "DeleteSession")
	_, err = e.s.GetSession(e.ctx, other)
	e.wantErr(err, storage.ErrNotFound, "GetSession after delete")
	e.must(e.s.DeleteSession(e.ctx, other), "DeleteSession again")
	if err := e.s.CreateSession(e.ctx, token.NewSecret(), storage.Session{OperatorID: "op", ExpiresAt: e.now()}); err == nil {
		e.t.Error("CreateSession expiring now: no error")
	}
}

func testAdminTokens(e *env) {
	has, err := e.s.HasAdminTokens(e.ctx)
	e.must(err, "HasAdminTokens")
	if has {
		e.t.Error("HasAdminTokens on an empty store = true")
	}
	t1, t2 := token.NewSecret(), token.NewSecret()
	e.must(e.s.AddAdminToken(e.ctx, t1, "ops"), "AddAdminToken")
	has, err = e.s.HasAdminTokens(e.ctx)
	e.must(err, "HasAdminTokens")
	if !has {
		e.t.Error("HasAdminTokens = false after AddAdminToken")
	}
	label, err := e.s.CheckAdminToken(e.ctx, t1)
	e.must(err, "CheckAdminToken")
	if label != "ops" {
		e.t.Errorf("label = %q, want ops", label)
	}
	for name, v := range map[string]string{"unknown": t2, "empty": "", "prefix": t1[:30]} {
		_, err := e.s.CheckAdminToken(e.ctx, v)
		e.wantErr(err, storage.ErrNotFound, "CheckAdminToken("+name+")")
	}
	e.must(e.s.AddAdminToken(e.ctx, t2, "ci"), "AddAdminToken")
	if label, err := e.s.CheckAdminToken(e.ctx, t2); err != nil || label != "ci" {
		e.t.Errorf("CheckAdminToken(t2) = %q, %v, want ci", label, err)
	}
}

func reviewIDs(rs []storage.Review) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func (e *env) wantReviews(got []storage.Review, err error, want []string, what string) {
	e.t.Helper()
	e.must(err, what)
	if ids := reviewIDs(got); !slices.Equal(ids, want) {
		e.t.Errorf("%s = %v, want %v", what, ids, want)
	}
}

func testReviews(e *env) {
	e.must(e.s.CreateClient(e.ctx, storage.Client{ID: "c1", Name: "P", Status: storage.Active}), "CreateClient")
	all := scopes.All().Strings()
	r1 := storage.Review{ID: "r1", ClientID: "c1", FiledBy: "client", CreatedAt: e.now(), Lines: []storage.ReviewLine{
		{Scope: all[0], Justification: "to upload files"},
		{Scope: all[1], Justification: "just because"},
		{Scope: all[2], Justification: "to list visitors"},
	}}
	e.must(e.s.CreateReview(e.ctx, r1), "CreateReview(r1)")
	e.f.Clock.Advance(time.Minute)
	r2 := storage.Review{ID: "r2", ClientID: "c1", FiledBy: "admin:bob", CreatedAt: e.now(),
		Lines: []storage.ReviewLine{{Scope: all[3], Justification: "ops"}}}
	e.must(e.s.CreateReview(e.ctx, r2), "CreateReview(r2)")

	got, err := e.s.GetReview(e.ctx, "r1")
	e.must(err, "GetReview")
	want := r1
	want.Lines = slices.Clone(r1.Lines)
	for i := range want.Lines {
		want.Lines[i].Status = storage.LinePending
	}
	e.jsonEq(got, want, "GetReview")
	rs, err := e.s.ListReviews(e.ctx, "c1")
	e.wantReviews(rs, err, []string{"r2", "r1"}, "ListReviews (newest first)")
	rs, err = e.s.ListPendingReviews(e.ctx)
	e.wantReviews(rs, err, []string{"r1", "r2"}, "ListPendingReviews (oldest first)")

	at := e.now().Add(time.Second)
	rv, c, err := e.s.DecideLine(e.ctx, "r1", 0, true, "admin:bob", "fine", at)
	e.must(err, "DecideLine(approve)")
	if l := rv.Lines[0]; l.Status != storage.LineApproved || l.Reviewer != "admin:bob" || l.Note != "fine" || !l.DecidedAt.Equal(at) {
		e.t.Errorf("approved line = %+v", l)
	}
	if c.Approved != scopes.MustParse(all[0]) {
		e.t.Errorf("approved maximum = %q, want %q", c.Approved, all[0])
	}
	rv, c, err = e.s.DecideLine(e.ctx, "r1", 1, false, "admin:bob", "no", at)
	e.must(err, "DecideLine(reject)")
	if rv.Lines[1].Status != storage.LineRejected || c.Approved != scopes.MustParse(all[0]) {
		e.t.Errorf("after a rejection: line %+v, approved %q", rv.Lines[1], c.Approved)
	}
	stored, err := e.s.GetClient(e.ctx, "c1")
	e.must(err, "GetClient")
	if stored.Approved != scopes.MustParse(all[0]) {
		e.t.Errorf("stored approved maximum = %q, want %q", stored.Approved, all[0])
	}
	stored2, err := e.s.GetReview(e.ctx, "r1")
	e.must(err, "GetReview")
	e.jsonEq(stored2, rv, "stored review after decisions")

	_, _, err = e.s.DecideLine(e.ctx, "r1", 0, false, "admin:eve", "changed my mind", at)
	e.wantErr(err, storage.ErrConflict, "DecideLine on a decided line")
	for _, i := range []int{-1, 3} {
		_, _, err = e.s.DecideLine(e.ctx, "r1", i, true, "admin:bob", "", at)
		if err == nil || errors.Is(err, storage.ErrUnavailable) {
			e.t.Errorf("DecideLine(line %d) = %v, want an error", i, err)
		}
	}
	_, _, err = e.s.DecideLine(e.ctx, "nope", 0, true, "admin:bob", "", at)
	e.wantErr(err, storage.ErrNotFound, "DecideLine(nope)")

	rs, err = e.s.ListPendingReviews(e.ctx)
	e.wantReviews(rs, err, []string{"r1", "r2"}, "ListPendingReviews with one line left")
	_, _, err = e.s.DecideLine(e.ctx, "r1", 2, true, "admin:bob", "", at)
	e.must(err, "DecideLine(last line)")
	rs, err = e.s.ListPendingReviews(e.ctx)
	e.wantReviews(rs, err, []string{"r2"}, "ListPendingReviews when r1 is decided")
	rs, err = e.s.ListReviews(e.ctx, "c1")
	e.wantReviews(rs, err, []string{"r2", "r1"}, "ListReviews keeps history")

	e.wantErr(e.s.CreateReview(e.ctx, r1), storage.ErrAlreadyExists, "CreateReview again")
	ghost := storage.Review{ID: "r3", ClientID: "ghost", Lines: []storage.ReviewLine{{Scope: all[0]}}}
	e.wantErr(e.s.CreateReview(e.ctx, ghost), storage.ErrNotFound, "CreateReview for an unknown client")
	ghost.ClientID = "c1"
	e.must(e.s.CreateReview(e.ctx, ghost), "CreateReview reusing the refused ID")
	bad := storage.Review{ID: "r4", ClientID: "c1", Lines: []storage.ReviewLine{{Scope: "website:nope:read"}}}
	if err := e.s.CreateReview(e.ctx, bad); err == nil || errors.Is(err, storage.ErrUnavailable) {
		e.t.Errorf("CreateReview with an unknown scope = %v, want a validation error", err)
	}
	_, err = e.s.GetReview(e.ctx, "r4")
	e.wantErr(err, storage.ErrNotFound, "GetReview of a refused review")
}

func testDecideLineRace(e *env) {
	// Lines decided at once must all land, in the review and in the
	// client's approved maximum: the two records change together.
	e.must(e.s.CreateClient(e.ctx, storage.Client{ID: "c1", Name: "P", Status: storage.Active}), "CreateClient")
	const n = 20
	all := scopes.All().Strings()[:n]
	rv := storage.Review{ID: "r1", ClientID: "c1", FiledBy: "client"}
	for _, s := range all {
		rv.Lines = append(rv.Lines, storage.ReviewLine{Scope: s, Justification: "needed"})
	}
	e.must(e.s.CreateReview(e.ctx, rv), "CreateReview")
	errs := race(n, func(i int) error {
		_, _, err := e.s.DecideLine(e.ctx, "r1", i, true, "admin:bob", strconv.Itoa(i), e.now())
		return err
	})
	for i, err := range errs {
		if err != nil {
			e.t.Errorf("DecideLine(%d): %v", i, err)
		}
	}
	got, err := e.s.GetReview(e.ctx, "r1")
	e.must(err, "GetReview")
	for i, l := range got.Lines {
		if l.Status != storage.LineApproved || l.Note != strconv.Itoa(i) {
			e.t.Errorf("line %d = %+v, want approved with note %d", i, l, i)
		}
	}
	c, err := e.s.GetClient(e.ctx, "c1")
	e.must(err, "GetClient")
	if want := scopes.MustParse(strings.Join(all, " ")); c.Approved != want {
		e.t.Errorf("approved maximum = %q, want %q", c.Approved, want)
	}
	rs, err := e.s.ListPendingReviews(e.ctx)
	e.wantReviews(rs, err, nil, "ListPendingReviews")
}

// appendEvents appends n events one minute apart and returns them as
// appended (oldest first).
func (e *env) appendEvents(n int) []storage.Event {
	t0 := e.now()
	kinds := []string{"client.suspended", "grant.revoked", "review.filed"}
	var evs []storage.Event
	for i := range n {
		ev := storage.Event{Time: t0.Add(time.Duration(i) * time.Minute), Kind: kinds[i%3], Actor: "admin:bob",
			ClientID: []string{"c1", "c2"}[i%2], WebsiteID: []string{"w1", "w2", "w3", "w4"}[i%4],
			GrantID: token.NewID(), Detail: map[string]string{"i": strconv.Itoa(i)}}
		e.must(e.s.AppendEvent(e.ctx, ev), "AppendEvent")
		evs = append(evs, ev)
	}
	return evs
}

func eventIndexes(evs []storage.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Detail["i"]
	}
	return out
}

func testAudit(e *env) {
	evs := e.appendEvents(30)
	t0 := evs[0].Time
	for _, tc := range []struct {
		name string
		f    storage.EventFilter
		keep func(storage.Event) bool
	}{
		{"all", storage.EventFilter{}, func(storage.Event) bool { return true }},
		{"client", storage.EventFilter{ClientID: "c1"}, func(ev storage.Event) bool { return ev.ClientID == "c1" }},
		{"website", storage.EventFilter{WebsiteID: "w3"}, func(ev storage.Event) bool { return ev.WebsiteID == "w3" }},
		{"kind", storage.EventFilter{Kind: "grant.revoked"}, func(ev storage.Event) bool { return ev.Kind == "grant.revoked" }},
		{"since until", storage.EventFilter{Since: t0.Add(10 * time.Minute), Until: t0.Add(20 * time.Minute)},
			func(ev storage.Event) bool {
				return !ev.Time.Before(t0.Add(10*time.Minute)) && ev.Time.Before(t0.Add(20*time.Minute))
			}},
		{"client and kind", storage.EventFilter{ClientID: "c2", Kind: "client.suspended"},
			func(ev storage.Event) bool { return ev.ClientID == "c2" && ev.Kind == "client.suspended" }},
		{"limit", storage.EventFilter{Limit: 4}, func(storage.Event) bool { return true }},
		{"no match", storage.EventFilter{ClientID: "c9"}, func(storage.Event) bool { return false }},
	} {
		var want []storage.Event
		for i := len(evs) - 1; i >= 0; i-- {
			if tc.keep(evs[i]) && (tc.f.Limit == 0 || len(want) < tc.f.Limit) {
				want = append(want, evs[i])
			}
		}
		got, err := e.s.ListEvents(e.ctx, tc.f)
		e.must(err, "ListEvents "+tc.name)
		if g, w := eventIndexes(got), eventIndexes(want); !slices.Equal(g, w) {
			e.t.Errorf("ListEvents(%s) = events %v, want %v", tc.name, g, w)
		}
	}
	got, err := e.s.ListEvents(e.ctx, storage.EventFilter{Limit: 1})
	e.must(err, "ListEvents")
	ev, want := got[0], evs[len(evs)-1]
	if ev.ID == "" || ev.Kind != want.Kind || ev.Actor != want.Actor || ev.ClientID != want.ClientID ||
		ev.WebsiteID != want.WebsiteID || ev.GrantID != want.GrantID || !ev.Time.Equal(want.Time) {
		e.t.Errorf("newest event = %+v, want %+v with an ID", ev, want)
	}

	// A zero time is the store's now.
	e.f.Clock.Advance(time.Hour)
	e.must(e.s.AppendEvent(e.ctx, storage.Event{Kind: "admin.login"}), "AppendEvent")
	got, err = e.s.ListEvents(e.ctx, storage.EventFilter{Kind: "admin.login"})
	e.must(err, "ListEvents")
	if len(got) != 1 || !got[0].Time.Equal(e.now()) {
		e.t.Errorf("event without time = %+v, want time %v", got, e.now())
	}

	// Per-token issuance is no audit event (metrics count it): nothing kept.
	e.must(e.s.AppendEvent(e.ctx, storage.Event{Kind: storage.KindTokenIssued, ClientID: "c1"}), "AppendEvent")
	got, err = e.s.ListEvents(e.ctx, storage.EventFilter{Kind: storage.KindTokenIssued})
	e.must(err, "ListEvents")
	if len(got) != 0 {
		e.t.Errorf("token.issued events kept: %+v", got)
	}
}

func testAuditPaging(e *env) {
	e.appendEvents(60)
	// Sparse filters make the store read past a page's worth of events.
	for _, f := range []storage.EventFilter{{Limit: 7}, {ClientID: "c1", Limit: 3}, {Kind: "grant.revoked", Limit: 10}} {
		full, err := e.s.ListEvents(e.ctx, storage.EventFilter{ClientID: f.ClientID, Kind: f.Kind})
		e.must(err, "ListEvents")
		var paged []storage.Event
		for page := 0; ; page++ {
			if page > 30 {
				e.t.Fatal("paging does not end")
			}
			got, err := e.s.ListEvents(e.ctx, f)
			e.must(err, "ListEvents page")
			if len(got) > f.Limit {
				e.t.Fatalf("page of %d events, limit %d", len(got), f.Limit)
			}
			paged = append(paged, got...)
			if len(got) < f.Limit {
				break
			}
			f.After = got[len(got)-1].ID
		}
		if g, w := eventIndexes(paged), eventIndexes(full); !slices.Equal(g, w) {
			e.t.Errorf("pages of %+v = %v, want %v", f, g, w)
		}
	}
	if _, err := e.s.ListEvents(e.ctx, storage.EventFilter{After: "not-an-id"}); err == nil || errors.Is(err, storage.ErrUnavailable) {
		e.t.Errorf("ListEvents with a bad cursor = %v, want a validation error", err)
	}
}

// everyCall calls every Store method once with plausible arguments.
func everyCall(e *env, s storage.Store) []struct {
	name string
	call func() error
} {
	ctx := e.ctx
	g := storage.Grant{ID: token.NewID(), ClientID: "c1", WebsiteID: "w1"}
	access := storage.NewToken{Value: token.New(token.Access, g.ID), Token: storage.Token{ExpiresAt: e.now().Add(time.Hour)}}
	code, refresh := token.New(token.Code, g.ID), token.New(token.Refresh, g.ID)
	return []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"CreateClient", func() error { return s.CreateClient(ctx, storage.Client{ID: "c1"}) }},
		{"GetClient", func() error { _, err := s.GetClient(ctx, "c1"); return err }},
		{"UpdateClient", func() error {
			_, err := s.UpdateClient(ctx, "c1", func(c storage.Client) (storage.Client, error) { return c, nil })
			return err
		}},
		{"DeleteClient", func() error { return s.DeleteClient(ctx, "c1") }},
		{"ListClients", func() error { _, err := s.ListClients(ctx); return err }},
		{"CreateOperator", func() error { return s.CreateOperator(ctx, storage.Operator{ID: "op1", Email: "a@b.c"}) }},
		{"GetOperator", func() error { _, err := s.GetOperator(ctx, "op1"); return err }},
		{"GetOperatorByEmail", func() error { _, err := s.GetOperatorByEmail(ctx, "a@b.c"); return err }},
		{"PutWebsite", func() error { return s.PutWebsite(ctx, storage.Website{ID: "w1"}) }},
		{"GetWebsite", func() error { _, err := s.GetWebsite(ctx, "w1"); return err }},
		{"CreateGrant", func() error { return s.CreateGrant(ctx, g) }},
		{"GetGrant", func() error { _, err := s.GetGrant(ctx, g.ID); return err }},
		{"ListGrants", func() error { _, err := s.ListGrants(ctx, "c1", ""); return err }},
		{"IssueClientCredentials", func() error {
			_, _, err := s.IssueClientCredentials(ctx, storage.Grant{ID: token.NewID(), ClientID: "c1"}, storage.Token{ExpiresAt: e.now().Add(time.Hour)})
			return err
		}},
		{"IssueTokens", func() error { return s.IssueTokens(ctx, access) }},
		{"LookupToken", func() error { _, _, err := s.LookupToken(ctx, access.Value); return err }},
		{"GetCode", func() error { _, _, err := s.GetCode(ctx, code); return err }},
		{"RedeemCode", func() error { return s.RedeemCode(ctx, code, access) }},
		{"GetRefresh", func() error { _, _, err := s.GetRefresh(ctx, refresh); return err }},
		{"RotateRefresh", func() error { return s.RotateRefresh(ctx, refresh, access) }},
		{"RedeemChecked", func() error {
			_, _, err := s.RedeemChecked(ctx, refresh, storage.Redemption{ClientID: "c1"}, access)
			return err
		}},
		{"RevokeToken", func() error { _, err := s.RevokeToken(ctx, refresh); return err }},
		{"RevokeGrant", func() error { _, err := s.RevokeGrant(ctx, g.ID); return err }},
		{"RevokeClient", func() error { _, err := s.RevokeClient(ctx, "c1"); return err }},
		{"RevokeWebsite", func() error { _, err := s.RevokeWebsite(ctx, "w1"); return err }},
		{"CreateReview", func() error {
			return s.CreateReview(ctx, storage.Review{ID: "r1", ClientID: "c1", Lines: []storage.ReviewLine{{Scope: scopes.All().Strings()[0]}}})
		}},
		{"GetReview", func() error { _, err := s.GetReview(ctx, "r1"); return err }},
		{"ListReviews", func() error { _, err := s.ListReviews(ctx, "c1"); return err }},
		{"ListPendingReviews", func() error { _, err := s.ListPendingReviews(ctx); return err }},
		{"DecideLine", func() error { _, _, err := s.DecideLine(ctx, "r1", 0, true, "a", "", e.now()); return err }},
		{"AppendEvent", func() error { return s.AppendEvent(ctx, storage.Event{Kind: "k"}) }},
		{"ListEvents", func() error { _, err := s.ListEvents(ctx, storage.EventFilter{}); return err }},
		{"CreateSession", func() error {
			return s.CreateSession(ctx, "secret", storage.Session{OperatorID: "op1", ExpiresAt: e.now().Add(time.Hour)})
		}},
		{"GetSession", func() error { _, err := s.GetSession(ctx, "secret"); return err }},
		{"DeleteSession", func() error { return s.DeleteSession(ctx, "secret") }},
		{"AddAdminToken", func() error { return s.AddAdminToken(ctx, "secret", "l") }},
		{"CheckAdminToken", func() error { _, err := s.CheckAdminToken(ctx, "secret"); return err }},
		{"HasAdminTokens", func() error { _, err := s.HasAdminTokens(ctx); return err }},
	}
}

// failClosed checks that every call fails with ErrUnavailable, never with
// ErrNotFound or success.
func failClosed(e *env, s storage.Store) {
	e.t.Helper()
	for _, c := range everyCall(e, s) {
		err := c.call()
		if !errors.Is(err, storage.ErrUnavailable) || errors.Is(err, storage.ErrNotFound) {
			e.t.Errorf("%s with the backend down: error = %v, want ErrUnavailable (fail closed)", c.name, err)
		}
	}
}

func testUnavailable(e *env) { failClosed(e, e.f.Down(e.t)) }

func testClosed(e *env) {
	e.must(e.s.Close(), "Close")
	failClosed(e, e.s)
}
