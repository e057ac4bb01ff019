// Package errdefs holds the engine's sentinel errors. Engine functions wrap
// them with %w and a message that says what failed; the CLI maps them to exit
// codes and nest to toasts. Errors from containerd are converted where they
// enter the engine (see FromContainerd).
package errdefs

import (
	"errors"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
)

// Sentinel errors. Test with errors.Is.
var (
	// ErrNotFound: no container, image, volume or key by that name.
	ErrNotFound = errors.New("not found")
	// ErrAmbiguous: an ID prefix matches more than one container.
	ErrAmbiguous = errors.New("ambiguous")
	// ErrInvalid: bad input (a bundle, a flag, a config value).
	ErrInvalid = errors.New("invalid")
	// ErrConflict: the thing exists already or is in use.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: containerd (or another service) cannot be reached.
	ErrUnavailable = errors.New("unavailable")
	// ErrNotSupported: a feature Budgie does not have yet.
	ErrNotSupported = errors.New("not supported yet")
)

// FromContainerd maps a containerd error class onto Budgie's sentinels,
// keeping the original in the chain. Other errors come back unchanged.
func FromContainerd(err error) error {
	switch {
	case err == nil:
		return nil
	case cerrdefs.IsNotFound(err):
		return classify(ErrNotFound, err)
	case cerrdefs.IsAlreadyExists(err), cerrdefs.IsFailedPrecondition(err):
		return classify(ErrConflict, err)
	case cerrdefs.IsInvalidArgument(err):
		return classify(ErrInvalid, err)
	case cerrdefs.IsUnavailable(err):
		return classify(ErrUnavailable, err)
	case cerrdefs.IsNotImplemented(err):
		return classify(ErrNotSupported, err)
	}
	return err
}

// classified keeps err's message and chain and adds a sentinel for errors.Is.
type classified struct {
	sentinel error
	err      error
}

func (c classified) Error() string   { return c.err.Error() }
func (c classified) Unwrap() []error { return []error{c.sentinel, c.err} }

func classify(sentinel, err error) error { return classified{sentinel: sentinel, err: err} }

// Message is err's text for people: without the trailing ": not found"
// (and the like) that wrapping a sentinel with %w leaves at the end, since
// the sentence before it already says so. Exit codes and errors.Is still
// see the sentinel.
func Message(err error) string {
	msg := err.Error()
	for changed := true; changed; {
		changed = false
		for _, s := range []error{ErrNotFound, ErrAmbiguous, ErrInvalid, ErrConflict, ErrUnavailable, ErrNotSupported} {
			suffix := ": " + s.Error()
			if strings.HasSuffix(msg, suffix) && errors.Is(err, s) {
				msg, changed = strings.TrimSuffix(msg, suffix), true
			}
		}
	}
	return msg
}

// all lists the sentinels in the order Kind tries them.
var all = []error{ErrNotFound, ErrAmbiguous, ErrInvalid, ErrConflict, ErrUnavailable, ErrNotSupported}

// Kind names the sentinel err wraps ("not found", "conflict", …), or ""
// for none: how an error's class crosses a process boundary (the keeper's
// API). FromKind turns it back into the sentinel.
func Kind(err error) string {
	for _, s := range all {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return ""
}

// FromKind returns the sentinel Kind named; nil for an unknown or empty kind.
func FromKind(kind string) error {
	for _, s := range all {
		if s.Error() == kind {
			return s
		}
	}
	return nil
}
