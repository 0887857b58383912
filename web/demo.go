package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/scopegate/scopegate/storage/token"
)

// The demo plugin, seeded by `scopegate serve --demo` (cmd/scopegate/demo.go).
const (
	demoClientID     = "demo-plugin"
	demoResourceID   = "demo-api"
	demoCookie       = "sg_demo"
	demoCookiePath   = "/demo"
	demoCookieMaxAge = 600
)

type demoView struct {
	Issuer      string
	Code        string
	State       string
	StateOK     bool
	HasCookie   bool
	IssOK       bool
	Iss         string
	ErrCode     string
	ErrDesc     string
	CurlToken   string
	CurlIntro   string
	RedirectURI string
}

// demoRoutes registers the demo pages: a stand-in for a plugin's own
// website, so a newcomer can run the authorization code flow with PKCE in a
// browser against `make run`.
func (pg *pages) demoRoutes(e *gin.Engine) {
	e.GET("/demo", pg.demoHome)
	e.GET("/demo/connect", pg.demoConnect)
	e.GET("/demo/callback", pg.demoCallback)
}

func (pg *pages) demoConfig() *oauth2.Config {
	iss := strings.TrimRight(pg.s.p.Issuer(), "/")
	return &oauth2.Config{
		ClientID:    demoClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: iss + "/oauth/authorize", TokenURL: iss + "/oauth/token"},
		RedirectURL: iss + "/demo/callback",
	}
}

func (pg *pages) demoHome(c *gin.Context) {
	ss, err := pg.currentSession(c.Request.Context(), c.Request)
	if err != nil {
		pg.fail(c, err)
		return
	}
	v := &view{Title: "Demo plugin", Demo: &demoView{Issuer: strings.TrimRight(pg.s.p.Issuer(), "/")}}
	pg.render(c, http.StatusOK, "demo", v.signedIn(ss))
}

// demoConnect plays the plugin's part: a PKCE verifier and a state, kept in
// an HttpOnly cookie scoped to /demo, then off to /oauth/authorize.
func (pg *pages) demoConnect(c *gin.Context) {
	noStore(c)
	verifier, state := oauth2.GenerateVerifier(), token.NewRandom()
	pg.setCookie(c, demoCookie, state+"."+verifier, demoCookiePath, demoCookieMaxAge)
	// No scope parameter: the plugin asks for its approved website scopes,
	// and the consent page shows each one.
	c.Redirect(http.StatusFound, pg.demoConfig().AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
}

// demoCallback is the demo plugin's redirect URI. The server does not know
// the plugin's secret (only its hash), so the page prints the exact token
// request for the person to run with the secret shown at startup.
func (pg *pages) demoCallback(c *gin.Context) {
	noStore(c)
	q := c.Request.URL.Query()
	iss := strings.TrimRight(pg.s.p.Issuer(), "/")
	dv := &demoView{
		Issuer:      iss,
		Code:        q.Get("code"),
		State:       q.Get("state"),
		Iss:         q.Get("iss"),
		IssOK:       q.Get("iss") == iss,
		ErrCode:     q.Get("error"),
		ErrDesc:     q.Get("error_description"),
		RedirectURI: pg.demoConfig().RedirectURL,
	}
	var verifier string
	if ck, err := c.Request.Cookie(demoCookie); err == nil {
		if state, v, ok := strings.Cut(ck.Value, "."); ok {
			dv.HasCookie = true
			dv.StateOK = token.Equal(state, dv.State)
			verifier = v
		}
	}
	if dv.Code != "" && dv.StateOK {
		dv.CurlToken = "curl -s -u \"" + demoClientID + ":$DEMO_PLUGIN_SECRET\" \\\n" +
			"  -d grant_type=authorization_code \\\n" +
			"  -d code=" + shellQuote(dv.Code) + " \\\n" +
			"  --data-urlencode redirect_uri=" + shellQuote(dv.RedirectURI) + " \\\n" +
			"  -d code_verifier=" + shellQuote(verifier) + " \\\n" +
			"  " + shellQuote(iss+"/oauth/token")
		dv.CurlIntro = "curl -s -u \"" + demoResourceID + ":$DEMO_API_SECRET\" \\\n" +
			"  -d token=\"$ACCESS_TOKEN\" \\\n" +
			"  " + shellQuote(iss+"/oauth/introspect")
		pg.clearCookie(c, demoCookie, demoCookiePath)
	}
	ss, err := pg.currentSession(c.Request.Context(), c.Request)
	if err != nil {
		pg.fail(c, err)
		return
	}
	v := &view{Title: "Demo plugin: callback", Demo: dv}
	pg.render(c, http.StatusOK, "demo_callback", v.signedIn(ss))
}

// shellQuote quotes s for a POSIX shell, only when it needs it.
func shellQuote(s string) string {
	safe := s != ""
	for i := 0; i < len(s) && safe; i++ {
		c := s[i]
		safe = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.:/=", c) >= 0
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
