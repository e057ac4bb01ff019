package cli

import (
	"errors"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitNotFound    = 3
	exitUnavailable = 4
)

// exitCoder is an error that carries its own exit code (a container's).
type exitCoder interface{ ExitCode() int }

func exitCode(err error) int {
	var ec exitCoder
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.Is(err, errdefs.ErrInvalid):
		return exitUsage
	case errors.Is(err, errdefs.ErrNotFound):
		return exitNotFound
	case errors.Is(err, errdefs.ErrUnavailable):
		return exitUnavailable
	}
	return exitError
}
