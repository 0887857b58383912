package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/scopegate/scopegate/web/adminapi"
)

// operators create.

func (h *adminCmd) operatorsCreate(ctx context.Context, args []string) error {
	fs := h.flags("scopegate operators create --email E --password-stdin --website ID... [--json]")
	var (
		email    string
		pwStdin  bool
		websites stringSlice
	)
	fs.StringVar(&email, "email", "", "the operator's e-mail `address` (required)")
	fs.BoolVar(&pwStdin, "password-stdin", false, "read the password (12+ characters) from the first line of standard input (required)")
	fs.Var(&websites, "website", "website `ID` the operator manages (repeatable; missing websites are created, named after their ID)")
	_, api, err := h.parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case email == "":
		return usagef("--email is required")
	case !pwStdin:
		return usagef("--password-stdin is required: the password is read from standard input, never from the command line")
	case len(websites) == 0:
		return usagef("give at least one --website")
	}
	pw, err := readLine(h.stdin)
	if err != nil {
		return usagef("--password-stdin: %v", err)
	}
	var created []string
	for _, w := range websites {
		err := api.do(ctx, http.MethodPost, "/admin/v1/websites", adminapi.Website{ID: w, Name: w}, nil)
		var ae *apiError
		switch {
		case err == nil:
			created = append(created, w)
		case errors.As(err, &ae) && ae.Status == http.StatusConflict:
			// exists: left as it is
		default:
			return fmt.Errorf("website %s: %w", w, err)
		}
	}
	var raw json.RawMessage
	err = api.do(ctx, http.MethodPost, "/admin/v1/operators", adminapi.OperatorCreateRequest{Email: email, Password: pw, Websites: websites}, &raw)
	if err != nil {
		return err
	}
	var v adminapi.OperatorCreated
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	if h.conn.JSON {
		// The server's answer, and the websites made for it.
		out := struct {
			adminapi.OperatorCreated
			WebsitesCreated []string `json:"websites_created"`
		}{v, nonNilSlice(created)}
		b, _ := json.MarshalIndent(out, "", "  ")
		_, err := fmt.Fprintf(h.stdout, "%s\n", b)
		return err
	}
	fmt.Fprintf(h.stdout, "operator %s (%s) created for websites %s\n", v.OperatorID, v.Email, strings.Join(v.Websites, ", "))
	if len(created) > 0 {
		fmt.Fprintf(h.stdout, "created websites %s (named after their IDs)\n", strings.Join(created, ", "))
	}
	return nil
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
