package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scopegate/scopegate/storage"
)

// The admin subcommands wrap the admin API (/admin/v1/) of a running
// server. Exit status: 0 on success; 1 when the server refused or failed
// the request, or could not be reached; 2 for a usage mistake (bad flags,
// no admin token). Errors are one line on stderr; with --json, stdout holds
// exactly one JSON object on success and nothing otherwise.

const adminUsage = `Usage:
  scopegate clients create --name N [--public] [--redirect-uri U]... [--grant-type G]...
                           [--approve SCOPE]... [--role plugin|resource-server] [--id ID]
                           [--publisher P] [--homepage URL] [--privacy-url URL] [--json]
  scopegate clients list [--json]
  scopegate clients show|suspend|resume|delete ID [--json]
  scopegate clients rotate-secret ID [--grace 1h] [--json]
  scopegate clients update ID [--name N] [--redirect-uri U]... [--grant-type G]...
                           [--publisher P] [--homepage URL] [--privacy-url URL] [--json]
  scopegate clients lower ID --scope SCOPE... [--json]
  scopegate operators create --email E --password-stdin --website ID... [--json]
  scopegate reviews list [--status pending|decided|all] [--client ID] [--json]
  scopegate reviews show ID [--json]
  scopegate reviews decide ID --line N (--approve|--reject) [--note T] [--json]
  scopegate revoke (--token T | --grant ID | --client ID | --website ID) [--json]
  scopegate audit [--client ID] [--website ID] [--kind K] [--since T] [--until T]
                  [--limit N] [--after NEXT] [--json]

Every admin command takes --server URL (env SCOPEGATE_SERVER, default
http://127.0.0.1:8080) and --admin-token T (env SCOPEGATE_ADMIN_TOKEN); no
other admin flag reads the environment. --json prints exactly one JSON
object. 'revoke --token -' reads the token from standard input, keeping it
out of shell history and ps. 'operators create' creates missing websites
first (named after their ID). Review lines are numbered from 0.

Exit status: 0 success; 1 the server refused or failed the request, or
could not be reached; 2 a usage mistake. Errors are one line on stderr.
Run a command with --help for its flags.
`

// runAdmin runs the admin subcommands against a running server's admin API.
func runAdmin(ctx context.Context, cmd string, args []string, getenv env, stdin io.Reader, stdout, stderr io.Writer) int {
	name := "scopegate " + cmd
	var sub string
	if cmd == "clients" || cmd == "operators" || cmd == "reviews" {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
				fmt.Fprint(stdout, commandUsage(cmd))
				return 0
			}
			fmt.Fprintf(stderr, "%s: missing subcommand (run 'scopegate %s --help')\n", name, cmd)
			return 2
		}
		sub, args = args[0], args[1:]
		name += " " + sub
	}
	h := &adminCmd{name: name, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	var err error
	switch cmd + " " + sub {
	case "clients create":
		err = h.clientsCreate(ctx, args)
	case "clients list":
		err = h.clientsList(ctx, args)
	case "clients show", "clients suspend", "clients resume", "clients delete":
		err = h.clientsByID(ctx, sub, args)
	case "clients rotate-secret":
		err = h.clientsRotate(ctx, args)
	case "clients update":
		err = h.clientsUpdate(ctx, args)
	case "clients lower":
		err = h.clientsLower(ctx, args)
	case "operators create":
		err = h.operatorsCreate(ctx, args)
	case "reviews list":
		err = h.reviewsList(ctx, args)
	case "reviews show":
		err = h.reviewsShow(ctx, args)
	case "reviews decide":
		err = h.reviewsDecide(ctx, args)
	case "revoke ":
		err = h.revoke(ctx, args)
	case "audit ":
		err = h.audit(ctx, args)
	default:
		fmt.Fprintf(stderr, "%s: unknown subcommand %q (run 'scopegate %s --help')\n", "scopegate "+cmd, sub, cmd)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s: %s\n", name, oneLine(ue.msg))
		return 2
	}
	fmt.Fprintf(stderr, "%s: %s\n", name, oneLine(err.Error()))
	return 1
}

// adminCmd holds what every admin subcommand needs.
type adminCmd struct {
	name   string
	getenv env
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer // warnings (a revocation not yet durable)
	conn   conn
	// usage collects the flag set's usage text: printed for --help only,
	// never after a flag error (stdout stays clean for scripts).
	usage bytes.Buffer
}

// parse parses the flags and connects; want is the number of positional
// arguments (named in what).
func (h *adminCmd) parse(fs *flag.FlagSet, args []string, what ...string) ([]string, *apiClient, error) {
	pos, err := parseAdminFlags(fs, args, h.getenv)
	if errors.Is(err, flag.ErrHelp) {
		_, _ = h.stdout.Write(h.usage.Bytes())
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, usageError{err.Error()}
	}
	if len(pos) < len(what) {
		return nil, nil, usagef("missing %s", what[len(pos)])
	}
	if len(pos) > len(what) {
		return nil, nil, usagef("unexpected argument %q", pos[len(what)])
	}
	api, err := newAPIClient(h.conn)
	if err != nil {
		// Reported at the first request, so the command's own checks of
		// its flags (found locally) come first.
		api = &apiClient{err: err}
	}
	return pos, api, nil
}

func (h *adminCmd) flags(synopsis string) *flag.FlagSet {
	return adminFlagSet(h.name, synopsis, &h.usage, &h.conn)
}

// printJSON prints the server's object as is, indented.
func (h *adminCmd) printJSON(raw json.RawMessage) error {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	b.WriteByte('\n')
	_, err := h.stdout.Write(b.Bytes())
	return err
}

func (h *adminCmd) table() *tabwriter.Writer {
	return tabwriter.NewWriter(h.stdout, 0, 4, 2, ' ', 0)
}

// Shapes of the server's answers, for the text output.
type cliClient struct {
	ClientID     string   `json:"client_id"`
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	Role         string   `json:"role"`
	Status       string   `json:"status"`
	RedirectURIs []string `json:"redirect_uris"`
	GrantTypes   []string `json:"grant_types"`
	Approved     []string `json:"approved"`
	Secrets      []struct {
		ExpiresAt *time.Time `json:"expires_at"`
	} `json:"secrets"`
	ClientSecret string    `json:"client_secret"`
	ReviewID     string    `json:"review_id"`
	Publisher    string    `json:"publisher"`
	HomepageURL  string    `json:"homepage_url"`
	PrivacyURL   string    `json:"privacy_url"`
	CreatedAt    time.Time `json:"created_at"`
}

type cliLine struct {
	Index         int    `json:"index"`
	Scope         string `json:"scope"`
	Permission    string `json:"permission"`
	Description   string `json:"description"`
	Justification string `json:"justification"`
	Status        string `json:"status"`
	Reviewer      string `json:"reviewer"`
	Note          string `json:"note"`
}

type cliReview struct {
	ID        string    `json:"id"`
	ClientID  string    `json:"client_id"`
	FiledBy   string    `json:"filed_by"`
	Status    string    `json:"status"`
	Lines     []cliLine `json:"lines"`
	CreatedAt time.Time `json:"created_at"`
}

func dash(ss []string) string {
	if len(ss) == 0 {
		return "-"
	}
	return strings.Join(ss, " ")
}

func (h *adminCmd) printClient(c cliClient) {
	tw := h.table()
	fmt.Fprintf(tw, "client_id\t%s\n", c.ClientID)
	if c.ClientSecret != "" {
		fmt.Fprintf(tw, "client_secret\t%s\t(shown only now: store it)\n", c.ClientSecret)
	}
	fmt.Fprintf(tw, "name\t%s\n", c.Name)
	fmt.Fprintf(tw, "type\t%s\n", c.Type)
	fmt.Fprintf(tw, "role\t%s\n", c.Role)
	fmt.Fprintf(tw, "status\t%s\n", c.Status)
	fmt.Fprintf(tw, "redirect_uris\t%s\n", dash(c.RedirectURIs))
	fmt.Fprintf(tw, "grant_types\t%s\n", dash(c.GrantTypes))
	fmt.Fprintf(tw, "approved\t%s\n", dash(c.Approved))
	for _, f := range [][2]string{{"publisher", c.Publisher}, {"homepage", c.HomepageURL}, {"privacy_url", c.PrivacyURL}} {
		if f[1] != "" {
			fmt.Fprintf(tw, "%s\t%s\n", f[0], f[1])
		}
	}
	for _, s := range c.Secrets {
		if s.ExpiresAt != nil {
			fmt.Fprintf(tw, "old secret\tvalid until %s\n", s.ExpiresAt.UTC().Format(time.RFC3339))
		}
	}
	if c.ReviewID != "" {
		fmt.Fprintf(tw, "review\t%s\t(the --approve scopes, approved)\n", c.ReviewID)
	}
	tw.Flush()
}

// call runs one request and prints the answer: JSON as is, or text via
// show.
func call[T any](ctx context.Context, h *adminCmd, api *apiClient, method, path string, body any, show func(T), also ...any) error {
	var raw json.RawMessage
	if err := api.do(ctx, method, path, body, &raw); err != nil {
		return err
	}
	for _, v := range also { // more of the answer the caller wants, whatever the output mode
		_ = json.Unmarshal(raw, v)
	}
	if h.conn.JSON {
		return h.printJSON(raw)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	show(v)
	return nil
}

func (h *adminCmd) clientsCreate(ctx context.Context, args []string) error {
	fs := h.flags("scopegate clients create --name N [--public] [--redirect-uri U]... [--grant-type G]... [--approve SCOPE]... [--role plugin|resource-server] [--id ID] [--publisher P] [--homepage URL] [--privacy-url URL] [--json]")
	var (
		name, id, role     string
		public             bool
		uris, grants, appr stringSlice
		trust              trustFlags
	)
	trust.bind(fs)
	fs.StringVar(&name, "name", "", "display `name` of the client (required)")
	fs.StringVar(&id, "id", "", "client `ID` (default: generated, plg_… or rs_…)")
	fs.StringVar(&role, "role", "plugin", "`role`: plugin or resource-server (allowed to introspect)")
	fs.BoolVar(&public, "public", false, "a public client (no secret; PKCE only)")
	fs.Var(&uris, "redirect-uri", "exact redirect `URI` (repeatable)")
	fs.Var(&grants, "grant-type", "`grant type`: authorization_code, refresh_token, client_credentials (repeatable; default from the other flags)")
	fs.Var(&appr, "approve", "`scope` to approve at once, such as website:people:data:write (repeatable; recorded as an admin-filed review)")
	_, api, err := h.parse(fs, args)
	if err != nil {
		return err
	}
	if name == "" {
		return usagef("--name is required")
	}
	if err := checkChoice("--role", role, "plugin", "resource-server"); err != nil {
		return err
	}
	if err := checkGrantTypes(grants); err != nil {
		return err
	}
	if err := checkScopes("--approve", appr); err != nil {
		return err
	}
	body := map[string]any{"name": name, "role": role}
	trust.fill(body)
	if id != "" {
		body["id"] = id
	}
	if public {
		body["type"] = "public"
	}
	if len(uris) > 0 {
		body["redirect_uris"] = []string(uris)
	}
	if len(grants) > 0 {
		body["grant_types"] = []string(grants)
	}
	if len(appr) > 0 {
		body["approve"] = []string(appr)
	}
	return call(ctx, h, api, http.MethodPost, "/admin/v1/clients", body, h.printClient)
}

func (h *adminCmd) clientsList(ctx context.Context, args []string) error {
	fs := h.flags("scopegate clients list [--json]")
	_, api, err := h.parse(fs, args)
	if err != nil {
		return err
	}
	return call(ctx, h, api, http.MethodGet, "/admin/v1/clients", nil, func(v struct {
		Clients []cliClient `json:"clients"`
	}) {
		tw := h.table()
		fmt.Fprintln(tw, "CLIENT_ID\tNAME\tROLE\tTYPE\tSTATUS\tAPPROVED")
		for _, c := range v.Clients {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ClientID, c.Name, c.Role, c.Type, c.Status, plural(len(c.Approved), "scope"))
		}
		tw.Flush()
	})
}

func (h *adminCmd) clientsByID(ctx context.Context, sub string, args []string) error {
	fs := h.flags("scopegate clients " + sub + " ID [--json]")
	pos, api, err := h.parse(fs, args, "client ID")
	if err != nil {
		return err
	}
	path := "/admin/v1/clients/" + url.PathEscape(pos[0])
	switch sub {
	case "show":
		return call(ctx, h, api, http.MethodGet, path, nil, h.printClient)
	case "delete":
		return call(ctx, h, api, http.MethodDelete, path, nil, func(v struct{ Grants, Tokens int }) {
			fmt.Fprintf(h.stdout, "client %s deleted; revoked %s, %s\n", pos[0], plural(v.Grants, "grant"), plural(v.Tokens, "token"))
		})
	}
	return call(ctx, h, api, http.MethodPost, path+"/"+sub, nil, func(c cliClient) {
		fmt.Fprintf(h.stdout, "client %s is %s\n", c.ClientID, c.Status)
	})
}

func (h *adminCmd) clientsRotate(ctx context.Context, args []string) error {
	fs := h.flags("scopegate clients rotate-secret ID [--grace 1h] [--json]")
	grace := fs.Duration("grace", time.Hour, "how long the current secret keeps working (0 to 168h, whole seconds)")
	pos, api, err := h.parse(fs, args, "client ID")
	if err != nil {
		return err
	}
	if *grace < 0 || *grace > 7*24*time.Hour || *grace%time.Second != 0 {
		return usagef("--grace must be whole seconds from 0 to 168h")
	}
	body := map[string]any{"grace_seconds": int(*grace / time.Second)}
	return call(ctx, h, api, http.MethodPost, "/admin/v1/clients/"+url.PathEscape(pos[0])+"/rotate-secret", body, func(v struct {
		ClientID     string    `json:"client_id"`
		ClientSecret string    `json:"client_secret"`
		OldExpire    time.Time `json:"old_secrets_expire_at"`
	}) {
		tw := h.table()
		fmt.Fprintf(tw, "client_id\t%s\n", v.ClientID)
		fmt.Fprintf(tw, "client_secret\t%s\t(shown only now: store it)\n", v.ClientSecret)
		fmt.Fprintf(tw, "old secret valid until\t%s\n", v.OldExpire.UTC().Format(time.RFC3339))
		tw.Flush()
	})
}

func (h *adminCmd) clientsUpdate(ctx context.Context, args []string) error {
	fs := h.flags("scopegate clients update ID [--name N] [--redirect-uri U]... [--grant-type G]... [--publisher P] [--homepage URL] [--privacy-url URL] [--json]")
	var (
		name         string
		uris, grants stringSlice
		trust        trustFlags
	)
	trust.bind(fs)
	fs.StringVar(&name, "name", "", "new display `name`")
	fs.Var(&uris, "redirect-uri", "redirect `URI` (repeatable; replaces them all)")
	fs.Var(&grants, "grant-type", "`grant type` (repeatable; replaces them all)")
	pos, api, err := h.parse(fs, args, "client ID")
	if err != nil {
		return err
	}
	if err := checkGrantTypes(grants); err != nil {
		return err
	}
	body := map[string]any{}
	trust.fill(body)
	if name != "" {
		body["name"] = name
	}
	if len(uris) > 0 {
		body["redirect_uris"] = []string(uris)
	}
	if len(grants) > 0 {
		body["grant_types"] = []string(grants)
	}
	if len(body) == 0 {
		return usagef("nothing to change: give --name, --redirect-uri, --grant-type, --publisher, --homepage or --privacy-url")
	}
	return call(ctx, h, api, http.MethodPatch, "/admin/v1/clients/"+url.PathEscape(pos[0]), body, h.printClient)
}

func (h *adminCmd) clientsLower(ctx context.Context, args []string) error {
	fs := h.flags("scopegate clients lower ID --scope SCOPE... [--json]")
	var sc stringSlice
	fs.Var(&sc, "scope", "`scope` to remove from the approved maximum (repeatable)")
	pos, api, err := h.parse(fs, args, "client ID")
	if err != nil {
		return err
	}
	if len(sc) == 0 {
		return usagef("give at least one --scope")
	}
	if err := checkScopes("--scope", sc); err != nil {
		return err
	}
	return call(ctx, h, api, http.MethodPost, "/admin/v1/clients/"+url.PathEscape(pos[0])+"/lower", map[string]any{"scopes": []string(sc)}, func(c cliClient) {
		fmt.Fprintf(h.stdout, "client %s approved maximum: %s\n", c.ClientID, dash(c.Approved))
	})
}

// readLine reads one line from r, without its line ending.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReaderSize(r, 4096).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("standard input is empty")
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

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
		err := api.do(ctx, http.MethodPost, "/admin/v1/websites", map[string]string{"id": w, "name": w}, nil)
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
	err = api.do(ctx, http.MethodPost, "/admin/v1/operators", map[string]any{"email": email, "password": pw, "websites": []string(websites)}, &raw)
	if err != nil {
		return err
	}
	var v struct {
		OperatorID string   `json:"operator_id"`
		Email      string   `json:"email"`
		Websites   []string `json:"websites"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("unexpected answer from the server: %v", err)
	}
	if h.conn.JSON {
		out := map[string]any{"operator_id": v.OperatorID, "email": v.Email, "websites": v.Websites, "websites_created": nonNilSlice(created)}
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

func (h *adminCmd) printLines(r cliReview) {
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
	return call(ctx, h, api, http.MethodGet, "/admin/v1/reviews?"+q.Encode(), nil, func(v struct {
		Reviews []cliReview `json:"reviews"`
	}) {
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
	return call(ctx, h, api, http.MethodGet, "/admin/v1/reviews/"+url.PathEscape(pos[0]), nil, func(r cliReview) {
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
	return call(ctx, h, api, http.MethodPost, path, map[string]string{"decision": decision, "note": *note}, func(v struct {
		Review cliReview `json:"review"`
		Client cliClient `json:"client"`
	}) {
		st := "?"
		if *line < len(v.Review.Lines) {
			st = v.Review.Lines[*line].Status
		}
		fmt.Fprintf(h.stdout, "line %d of review %s %s; client %s approved maximum: %s\n", *line, v.Review.ID, st, v.Client.ClientID, dash(v.Client.Approved))
	})
}

func (h *adminCmd) revoke(ctx context.Context, args []string) error {
	fs := h.flags("scopegate revoke (--token T | --grant ID | --client ID | --website ID) [--json]")
	tok := fs.String("token", "", "a leaked access or refresh `token`: its whole grant is revoked; '-' reads it from standard input (keeps it out of shell history and ps)")
	grant := fs.String("grant", "", "a grant `ID`")
	client := fs.String("client", "", "a client `ID`: every grant of the plugin")
	website := fs.String("website", "", "a website `ID`: every grant on the website")
	_, api, err := h.parse(fs, args)
	if err != nil {
		return err
	}
	n := 0
	for _, v := range []string{*tok, *grant, *client, *website} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return usagef("give exactly one of --token, --grant, --client, --website")
	}
	body := map[string]string{}
	switch {
	case *tok == "-":
		t, err := readLine(h.stdin)
		if err != nil {
			return usagef("--token -: %v", err)
		}
		body["token"] = strings.TrimSpace(t)
	case *tok != "":
		body["token"] = *tok
	case *grant != "":
		body["grant_id"] = *grant
	case *client != "":
		body["client_id"] = *client
	default:
		body["website_id"] = *website
	}
	var durable struct {
		Durable *bool  `json:"durable"`
		Warning string `json:"warning"`
	}
	err = call(ctx, h, api, http.MethodPost, "/admin/v1/revoke", body, func(v struct{ Grants, Tokens int }) {
		fmt.Fprintf(h.stdout, "revoked %s, %s\n", plural(v.Grants, "grant"), plural(v.Tokens, "token"))
	}, &durable)
	if err == nil && durable.Durable != nil && !*durable.Durable {
		fmt.Fprintf(h.stderr, "warning: %s\n", durable.Warning)
	}
	return err
}

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
	return call(ctx, h, api, http.MethodGet, "/admin/v1/audit?"+q.Encode(), nil, func(v struct {
		Events []struct {
			ID        string            `json:"id"`
			Time      time.Time         `json:"time"`
			Kind      string            `json:"kind"`
			Actor     string            `json:"actor"`
			ClientID  string            `json:"client_id"`
			WebsiteID string            `json:"website_id"`
			GrantID   string            `json:"grant_id"`
			Detail    map[string]string `json:"detail"`
		} `json:"events"`
		Next string `json:"next"`
	}) {
		tw := h.table()
		fmt.Fprintln(tw, "TIME\tKIND\tACTOR\tCLIENT\tWEBSITE\tGRANT\tDETAIL")
		for _, e := range v.Events {
			keys := make([]string, 0, len(e.Detail))
			for k := range e.Detail {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = k + "=" + e.Detail[k]
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), e.Kind, orDash(e.Actor), orDash(e.ClientID),
				orDash(e.WebsiteID), orDash(e.GrantID), oneLine(strings.Join(parts, " ")))
		}
		tw.Flush()
		if v.Next != "" {
			fmt.Fprintf(h.stdout, "more: --after %s\n", v.Next)
		}
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
