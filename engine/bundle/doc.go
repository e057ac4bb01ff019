// Package bundle parses Budgie's .bun bundle files into container specs.
//
// A bundle is a YAML file that describes either one container (its fields at
// the top level) or a stack (a containers: list). Parse and ParseFile walk the
// YAML node tree rather than unmarshalling into structs, so that every problem
// they find carries the file, line and column it comes from. They collect all
// problems, not only the first, into an *Error, which matches
// errdefs.ErrInvalid. The format is documented in docs/bundle.md.
//
// The package is pure: apart from reading the bundle and its env files it
// touches nothing, and it never talks to containerd.
package bundle
