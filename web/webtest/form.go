package webtest

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Form is a parsed <form>: its inputs in document order.
type Form struct {
	Method, Action string
	Inputs         []Input
}

type Input struct {
	Type, Name, Value string
	Checked           bool
}

// Values is what a browser would submit with no button: hidden, text,
// e-mail and password fields, and ticked checkboxes and radios.
func (f Form) Values() url.Values {
	v := url.Values{}
	for _, in := range f.Inputs {
		switch in.Type {
		case "checkbox", "radio":
			if in.Checked {
				v.Add(in.Name, in.Value)
			}
		case "submit", "button":
		default:
			v.Add(in.Name, in.Value)
		}
	}
	return v
}

// Checkboxes returns the values of the form's checkboxes named name.
func (f Form) Checkboxes(name string) (all, checked []string) {
	for _, in := range f.Inputs {
		if in.Type == "checkbox" && in.Name == name {
			all = append(all, in.Value)
			if in.Checked {
				checked = append(checked, in.Value)
			}
		}
	}
	return all, checked
}

// FindForm returns the first form of page whose action is action.
func FindForm(t testing.TB, page, action string) Form {
	t.Helper()
	f, err := ParseForm(page, action)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// ParseForm is FindForm for programs that are not tests (the load tool).
func ParseForm(page, action string) (Form, error) {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return Form{}, fmt.Errorf("parse HTML: %w", err)
	}
	var found *Form
	var walk func(n *html.Node, cur *Form)
	walk = func(n *html.Node, cur *Form) {
		if found != nil && cur == nil {
			return
		}
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				if attr(n, "action") == action && found == nil {
					found = &Form{Method: attr(n, "method"), Action: action}
					cur = found
				} else {
					cur = nil
				}
			case "input", "button":
				if cur != nil {
					typ := attr(n, "type")
					if n.Data == "button" && typ == "" {
						typ = "submit"
					}
					_, checked := attrOK(n, "checked")
					cur.Inputs = append(cur.Inputs, Input{Type: typ, Name: attr(n, "name"), Value: attr(n, "value"), Checked: checked})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, cur)
		}
	}
	walk(doc, nil)
	if found == nil {
		return Form{}, fmt.Errorf("no form with action %q in page:\n%s", action, page)
	}
	return *found, nil
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}
