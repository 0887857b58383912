package scopes_test

import (
	"errors"
	"fmt"

	"github.com/scopegate/scopegate/scopes"
)

func ExampleParse() {
	s, err := scopes.Parse("website:people:data:write bucket:url:read website:people:data:read")
	fmt.Println(s, err)

	_, err = scopes.Parse("website:people:data:read website:people:data:admin")
	fmt.Println(err)
	fmt.Println(errors.Is(err, scopes.ErrUnknownPermission))

	var e *scopes.Error
	if errors.As(err, &e) {
		fmt.Printf("%q at %d\n", e.Token, e.Offset)
	}
	// Output:
	// bucket:url:read website:people:data:read website:people:data:write <nil>
	// scopes: unknown permission (want read or write) 'website:people:data:admin' at offset 25
	// true
	// "website:people:data:admin" at 25
}

func ExampleSet_SubsetOf() {
	approved := scopes.MustParse("website:conversation:messages:write website:people:data:read")
	requested := scopes.MustParse("website:conversation:messages:read website:conversation:messages:write")

	fmt.Println(requested.SubsetOf(approved))
	// Write never implies read: name what is beyond the approved maximum.
	fmt.Println(requested.Difference(approved))
	fmt.Println(requested.Intersect(approved).SubsetOf(approved))
	// Output:
	// false
	// website:conversation:messages:read
	// true
}

func ExampleRequiredPermission() {
	granted := scopes.MustParse("website:conversation:messages:write")
	for _, method := range []string{"GET", "POST", "DELETE", "HEAD"} {
		p := scopes.RequiredPermission(method)
		fmt.Println(method, p, granted.Has("website:conversation:messages", p))
	}
	// Output:
	// GET read false
	// POST write true
	// DELETE write true
	// HEAD read false
}

func ExampleSet_String() {
	s := scopes.Of(
		scopes.Scope{Name: "plugin:subscription:bill", Perm: scopes.Write},
		scopes.Scope{Name: "bucket:url", Perm: scopes.Write},
		scopes.Scope{Name: "bucket:url", Perm: scopes.Read},
	)
	fmt.Printf("%q\n", s.String())
	fmt.Printf("%q\n", scopes.Set{}.String())
	// Output:
	// "bucket:url:read bucket:url:write plugin:subscription:bill:write"
	// ""
}
