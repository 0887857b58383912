package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/scopegate/scopegate/web/adminapi"
)

// reviews: list, show, decide.

func (h *adminCmd) printLines(r adminapi.Review) {
	tw := h.table()
	fmt.Fprintln(tw, "LINE\tSCOPE\tSTATUS\tJUSTIFICATION\tDECISION")
	for _, l := range r.Lines {
		dec := "-"
		if l.Reviewer != "" {
			dec = l.Reviewer
			if l.Note != "" {
				dec += ": " + l.Note
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", l.Index, l.Scope, l.Status, clip(l.Justification, 60), oneLine(dec))
	}
	tw.Flush()
}

func clip(s string, n int) string {
	s = oneLine(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func (h *adminCmd) reviewsList(ctx context.Context, args []string) error {
	fs := h.flags("scopegate reviews list [--status pending|decided|all] [--client ID] [--json]")
	status := fs.String("status", "pending", "`status`: pending, decided or all")
	client := fs.String("client", "", "only this client's reviews (`ID`)")
	_, api, err := h.parse(fs, args)
	if err != nil {
		return err
	}
	if err := checkChoice("--status", *status, "pending", "decided", "all"); err != nil {
		return err
	}
	q := url.Values{"status": {*status}}
	if *client != "" {
		q.Set("client_id", *client)
	}
	return call(ctx, h, api, http.MethodGet, "/admin/v1/reviews?"+q.Encode(), nil, func(v adminapi.ReviewList) {
		tw := h.table()
		fmt.Fprintln(tw, "REVIEW\tCLIENT\tFILED_BY\tFILED_AT\tLINE\tSCOPE\tSTATUS")
		for _, r := range v.Reviews {
			for _, l := range r.Lines {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.ClientID, r.FiledBy, r.CreatedAt.UTC().Format(time.RFC3339), l.Index, l.Scope, l.Status)
			}
		}
		tw.Flush()
	})
}

func (h *adminCmd) reviewsShow(ctx context.Context, args []string) error {
	fs := h.flags("scopegate reviews show ID [--json]")
	pos, api, err := h.parse(fs, args, "review ID")
	if err != nil {
		return err
	}
	return call(ctx, h, api, http.MethodGet, "/admin/v1/reviews/"+url.PathEscape(pos[0]), nil, func(r adminapi.Review) {
		fmt.Fprintf(h.stdout, "review %s for client %s, filed by %s at %s: %s\n", r.ID, r.ClientID, r.FiledBy, r.CreatedAt.UTC().Format(time.RFC3339), r.Status)
		h.printLines(r)
	})
}

func (h *adminCmd) reviewsDecide(ctx context.Context, args []string) error {
	fs := h.flags("scopegate reviews decide ID --line N (--approve|--reject) [--note T] [--json]")
	line := fs.Int("line", -1, "the line's `number` (from 0, as reviews show prints it)")
	approve := fs.Bool("approve", false, "approve the line: its scope joins the client's approved maximum")
	reject := fs.Bool("reject", false, "reject the line")
	note := fs.String("note", "", "a `note` for the record")
	pos, api, err := h.parse(fs, args, "review ID")
	if err != nil {
		return err
	}
	if *line < 0 {
		return usagef("--line is required (0 or more)")
	}
	if *approve == *reject {
		return usagef("give exactly one of --approve and --reject")
	}
	decision := "reject"
	if *approve {
		decision = "approve"
	}
	path := "/admin/v1/reviews/" + url.PathEscape(pos[0]) + "/lines/" + strconv.Itoa(*line)
	return call(ctx, h, api, http.MethodPost, path, adminapi.DecisionRequest{Decision: decision, Note: *note}, func(v adminapi.Decided) {
		st := "?"
		if *line < len(v.Review.Lines) {
			st = v.Review.Lines[*line].Status
		}
		fmt.Fprintf(h.stdout, "line %d of review %s %s; client %s approved maximum: %s\n", *line, v.Review.ID, st, v.Client.ClientID, dash(v.Client.Approved))
	})
}
