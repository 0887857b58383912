package main

import "runtime/debug"

// versionString is the version `scopegate version` prints: the one the
// Makefile or the Dockerfile stamped (-X main.version=...), else the VCS
// revision the Go toolchain recorded (`go build` in a git checkout), else
// "dev".
func versionString() string {
	if version != "dev" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return version
	}
	return rev + dirty
}
