package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/scopegate/scopegate/storage"
	"github.com/scopegate/scopegate/web/adminapi"
)

// audit: read the audit trail, a page at a time.

// parseSince accepts RFC 3339 or a duration back from now ("24h").
func parseSince(s string, now time.Time) (string, error) {
	if s == "" {
		return "", nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Format(time.RFC3339), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UTC().Format(time.RFC3339), nil
	}
	return "", errors.New("not an RFC 3339 time or a duration such as 24h")
}

func (h *adminCmd) audit(ctx context.Context, args []string) error {
	fs := h.flags("scopegate audit [--client ID] [--website ID] [--kind K] [--since T] [--until T] [--limit N] [--after NEXT] [--json]")
	client := fs.String("client", "", "only events of this client `ID`")
	website := fs.String("website", "", "only events of this website `ID`")
	kind := fs.String("kind", "", "only events of this `kind`, such as revoke.client")
	since := fs.String("since", "", "events at or after `T`: RFC 3339, or a duration back from now such as 24h")
	until := fs.String("until", "", "events before `T` (RFC 3339 or a duration back from now)")
	limit := fs.Int("limit", 100, "at most `N` events (1-1000)")
	after := fs.String("after", "", "the `NEXT` value printed by the previous page")
	_, api, err := h.parse(fs, args)
	if err != nil {
		return err
	}
	q := url.Values{}
	now := time.Now()
	for name, v := range map[string]*string{"since": since, "until": until} {
		t, err := parseSince(*v, now)
		if err != nil {
			return usagef("--%s: %v", name, err)
		}
		if t != "" {
			q.Set(name, t)
		}
	}
	if *limit < 1 || *limit > 1000 {
		return usagef("--limit must be from 1 to 1000")
	}
	if *kind != "" {
		if err := checkChoice("--kind", *kind, storage.AuditKinds()...); err != nil {
			return err
		}
	}
	q.Set("limit", strconv.Itoa(*limit))
	for name, v := range map[string]string{"client_id": *client, "website_id": *website, "kind": *kind, "after": *after} {
		if v != "" {
			q.Set(name, v)
		}
	}
	return call(ctx, h, api, http.MethodGet, "/admin/v1/audit?"+q.Encode(), nil, func(v adminapi.AuditPage) {
		tw := h.table()
		fmt.Fprintln(tw, "TIME\tKIND\tACTOR\tCLIENT\tWEBSITE\tGRANT\tDETAIL")
		for _, e := range v.Events {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), e.Kind, orDash(e.Actor), orDash(e.ClientID),
				orDash(e.WebsiteID), orDash(e.GrantID), oneLine(adminapi.DetailText(e.Detail)))
		}
		tw.Flush()
		if v.Next != "" {
			fmt.Fprintf(h.stdout, "more: --after %s\n", v.Next)
		}
	})
}
