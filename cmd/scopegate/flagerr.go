package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// collectingValue wraps a flag's Value during parsing: a bad value is
// recorded, not returned, so the flag package goes on and every bad value
// on the command line is reported together.
type collectingValue struct {
	flag.Value
	name string
	errs *[]error
}

func (v collectingValue) Set(s string) error {
	before := v.Value.String()
	if err := v.Value.Set(s); err != nil {
		*v.errs = append(*v.errs, badValue("--"+v.name, s, v.Value, err))
		_ = v.Value.Set(before) // a failed Set may have zeroed it
	}
	return nil
}

// IsBoolFlag keeps `--demo` (no value) working through the wrapper.
func (v collectingValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// parseAll parses args and returns every problem: each bad flag value
// (named, with what was expected) and, after those, an unknown flag (with
// the closest known one suggested) or a missing value. flag.ErrHelp comes
// back alone. stopped reports that parsing stopped early (fs.Args() is
// then not the positional arguments).
func parseAll(fs *flag.FlagSet, args []string) (errs []error, stopped bool) {
	orig := map[string]flag.Value{}
	fs.VisitAll(func(f *flag.Flag) {
		orig[f.Name] = f.Value
		f.Value = collectingValue{Value: f.Value, name: f.Name, errs: &errs}
	})
	err := fs.Parse(args)
	fs.VisitAll(func(f *flag.Flag) { f.Value = orig[f.Name] })
	if errors.Is(err, flag.ErrHelp) {
		return []error{err}, true
	}
	if err != nil {
		return append(errs, cleanFlagError(fs, err)), true
	}
	return errs, false
}

// badValue says what is wrong with value s of a flag (or environment
// variable) in words, instead of the flag package's "parse error".
func badValue(name, s string, v flag.Value, err error) error {
	reason := err.Error()
	switch fmt.Sprintf("%T", v) {
	case "*flag.durationValue":
		reason = "not a duration such as 90s, 10m or 1h"
	case "*flag.intValue", "*flag.int64Value", "*flag.uintValue", "*flag.uint64Value":
		reason = "not a whole number"
	case "*flag.boolValue":
		reason = "not true or false"
	}
	return fmt.Errorf("%s: invalid value %q: %s", name, s, reason)
}

// cleanFlagError rewrites the flag package's own messages: an unknown flag
// gets the closest known one as a suggestion.
func cleanFlagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		if best := closestFlag(fs, name); best != "" {
			return fmt.Errorf("unknown flag --%s (did you mean --%s?)", name, best)
		}
		return fmt.Errorf("unknown flag --%s", name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return fmt.Errorf("--%s needs a value", strings.TrimLeft(name, "-"))
	}
	return err
}

// closestFlag returns the defined flag nearest to name (edit distance at
// most 2, or one that name is a prefix of), or "".
func closestFlag(fs *flag.FlagSet, name string) string {
	best, bestD := "", 3
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(name, f.Name)
		if len(name) >= 3 && strings.HasPrefix(f.Name, name) && d > 1 {
			d = 2
		}
		if d < bestD {
			best, bestD = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
