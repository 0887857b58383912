package web

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/scopegate/scopegate/oauth"
	"github.com/scopegate/scopegate/storage"
)

// trustView is what the consent page shows about the plugin before the
// operator decides, as GitHub and Slack consent screens do: who publishes
// it, where to read about it, whether the marketplace reviewed it, where
// the browser goes next and how long the access lasts.
type trustView struct {
	Publisher   string
	HomepageURL string
	PrivacyURL  string
	// ReviewedAt is when the marketplace last approved one of the
	// plugin's scope requests; zero if it never did.
	ReviewedAt time.Time
	// RedirectHost is the host the browser is sent to after Approve or
	// Deny: the registered redirect URI's.
	RedirectHost string
	// Lasting says how long access lasts, in words.
	Lasting string
}

// trust gathers the consent page's trust signals for req.
func (pg *pages) trust(ctx context.Context, req *oauth.AuthorizeRequest) (trustView, error) {
	cl := req.Client
	tv := trustView{Publisher: cl.Publisher, HomepageURL: cl.HomepageURL, PrivacyURL: cl.PrivacyURL}
	if u, err := url.Parse(req.RedirectURI); err == nil {
		tv.RedirectHost = u.Host
	}
	access, refresh := pg.s.p.Lifetimes()
	if slices.Contains(cl.GrantTypes, "refresh_token") {
		tv.Lasting = "Access lasts until you disconnect the plugin; it ends on its own if the plugin goes " +
			humanDuration(refresh) + " without using it."
	} else {
		tv.Lasting = "Access lasts " + humanDuration(access) + "; after that the plugin must ask you again."
	}
	reviews, err := pg.s.store.ListReviews(ctx, cl.ID)
	if err != nil {
		return tv, err
	}
	for _, r := range reviews {
		for _, l := range r.Lines {
			if l.Status == storage.LineApproved && l.DecidedAt.After(tv.ReviewedAt) {
				tv.ReviewedAt = l.DecidedAt
			}
		}
	}
	return tv, nil
}

// humanDuration spells a lifetime the way a person would: "30 days",
// "1 hour", "90 minutes".
func humanDuration(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + one + "s"
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	}
	return unit(int64(d/time.Second), "second")
}
