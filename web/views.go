package web

import (
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/scopegate/scopegate/scopes"
	"github.com/scopegate/scopegate/storage"
)

// view is what every template gets. Page-specific parts are pointers; the
// layout shows the signed-in operator and the sign-out form.
type view struct {
	Title string
	Email string // signed-in operator, if any
	CSRF  string // the session's CSRF token, if any

	Error   *errorView
	Login   *loginView
	Picker  *pickerView
	Consent *consentView
	Plugins *pluginsView
	Home    *homeView
	Demo    *demoView
	// Disconnect is the confirmation step before a plugin is disconnected.
	Disconnect *disconnectView
}

func (v *view) signedIn(ss *session) *view {
	if ss != nil {
		v.Email, v.CSRF = ss.op.Email, ss.CSRF
	}
	return v
}

type errorView struct {
	Message  string
	Link     string
	LinkText string
}

type loginView struct {
	ReturnTo string
	CSRF     string
	Email    string
	Error    string
	// Purpose says why sign-in is asked, such as the plugin being
	// connected.
	Purpose string
}

// hiddenField is one name/value pair carried through a form.
type hiddenField struct{ Name, Value string }

func hiddenFields(v url.Values) []hiddenField {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []hiddenField
	for _, k := range keys {
		for _, val := range v[k] {
			out = append(out, hiddenField{k, val})
		}
	}
	return out
}

type websiteOption struct {
	ID, Name string
	Selected bool
}

type pickerView struct {
	Action     string // GET target
	Intro      string
	Hidden     []hiddenField
	Field      string // "website_id" or "website"
	Websites   []websiteOption
	ClientName string
}

// permView is one scope string on a page: one checkbox on the consent page,
// one badge on the connected plugins page.
type permView struct {
	ID      string // element id for the label
	Scope   string // "website:people:data:read"
	Write   bool
	Checked bool
	// Text is what this permission lets the plugin do, in one plain
	// sentence from the catalogue ("See data stored in CRM profiles").
	Text string
}

// Badge is the permission's label.
func (p permView) Badge() string {
	if p.Write {
		return "WRITE"
	}
	return "READ"
}

// scopeGroup is one catalogue scope with the permissions asked or granted.
// Each permission carries its own sentence; the source description (which
// may name both permissions) is not shown to operators.
type scopeGroup struct {
	Name      string // "website:people:data"
	Title     string // "People data"
	Perms     []permView
	WriteOnly bool
	Subject   string // "people data", for the write-only note
}

// groupScopes turns a set into one group per catalogue scope, in canonical
// order, with checked marking which scopes are ticked.
func groupScopes(set, checked scopes.Set) []scopeGroup {
	var out []scopeGroup
	for i, sc := range set.Scopes() {
		if len(out) == 0 || out[len(out)-1].Name != sc.Name {
			subject := strings.ReplaceAll(strings.TrimPrefix(sc.Name, "website:"), ":", " ")
			out = append(out, scopeGroup{
				Name:    sc.Name,
				Title:   strings.ToUpper(subject[:1]) + subject[1:],
				Subject: subject,
			})
		}
		g := &out[len(out)-1]
		d, _ := scopes.Lookup(sc.Name)
		g.Perms = append(g.Perms, permView{
			Text:    d.Sentence(sc.Perm),
			ID:      "scope-" + itoa(i),
			Scope:   sc.String(),
			Write:   sc.Perm == scopes.Write,
			Checked: checked.Contains(sc),
		})
	}
	for i := range out {
		g := &out[i]
		g.WriteOnly = set.Has(g.Name, scopes.Write) && !set.Has(g.Name, scopes.Read)
	}
	return out
}

type consentView struct {
	ClientName   string
	ClientID     string
	Website      storage.Website
	ChangeSite   string // link back to the picker, when the operator has several
	Groups       []scopeGroup
	Hidden       []hiddenField
	Error        string
	ScopeField   string
	ScopeOmitted bool
	Trust        trustView
}

type homeView struct {
	Websites []websiteOption
	Demo     bool
}

type pluginsView struct {
	Website      storage.Website
	Grants       []grantView
	Disconnected bool
	OtherSites   bool
}

type grantView struct {
	ID         string
	ClientName string
	ClientID   string
	Groups     []scopeGroup
	CreatedAt  time.Time
}
