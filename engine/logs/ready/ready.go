// Package ready tells containerd's shim that the log driver is ready as
// early as the process can: from a package init, before the init of the
// large libraries the budgie binary links (compose-go's JSON-schema
// compiler alone takes 10–20 ms), which every container start otherwise
// waited for.
//
// The shim runs `budgie _log-driver DIR` with the container's stdout and
// stderr pipes on descriptors 3 and 4 and a pipe on descriptor 5 whose EOF
// means "ready": only then does it start the container. Readiness only
// says the pipes have a reader-to-be; output written before the driver
// reads them waits in the pipes, as it did when main signalled. main
// imports this package blank, first; its path sorts before the libraries',
// and it imports nothing but os and syscall, so its init runs early.
package ready

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// DriverArg is the first argument of the log driver's command line; it
// equals logs.DriverArg (a test checks), which cannot be imported here
// without running that package's dependencies' init first.
const DriverArg = "_log-driver"

// fd is the descriptor the shim waits on.
const fd = 5

var (
	once sync.Once
	stop chan os.Signal
)

func init() {
	if len(os.Args) == 3 && os.Args[1] == DriverArg {
		// The shim may send SIGTERM as soon as the container is gone,
		// which for a short-lived one is before main runs: catch it from
		// here on, or its default action would lose the buffered output.
		stop = make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		Signal()
	}
}

// Stopping receives the SIGTERM or SIGINT the driver got since its init;
// nil when the process is not the log driver (then nothing was caught).
func Stopping() <-chan os.Signal { return stop }

// Signal closes the ready descriptor, once per process; later calls do
// nothing, so a descriptor number reused after the first call is never
// closed by mistake. Not a pipe on descriptor 5 (the driver run by hand)
// is left alone.
func Signal() {
	once.Do(func() {
		var st syscall.Stat_t
		if syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFIFO {
			_ = syscall.Close(fd)
		}
	})
}
