// Package adminapi holds the wire types of the admin API (/admin/v1/) and
// the plugin API (/plugin/v1/): every request body, every answer and the
// error body, with the JSON they have on the wire. The server (package
// web), the CLI (cmd/scopegate) and tests share them, and a test in web
// checks each against web/openapi.yaml, so the three cannot drift apart.
//
// Request types carry `validate` tags that web's validator reads; they are
// plain struct tags, so this package imports the standard library only. It
// must not import anything of scopegate's: the CLI and external tools use
// it without the server.
package adminapi
