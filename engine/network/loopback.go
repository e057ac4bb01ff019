package network

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// loopbackUp brings lo up in the network namespace at nsPath: what CNI's
// loopback plugin does on ADD, without starting a plugin process for it
// on every container start (a Go binary's start-up on the start path, and
// a result cached by libcni that nothing deleted).
//
// One locked OS thread enters the namespace only long enough to open a
// socket there; the socket stays bound to that namespace, and the flag is
// set through it from the caller's namespace. A thread that cannot return
// to Budgie's own namespace is never reused: it stays locked and ends with
// its goroutine.
func loopbackUp(nsPath string) error {
	fd, err := socketIn(nsPath)
	if err != nil {
		return fmt.Errorf("bring up lo in %s: %w", nsPath, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bring up lo in %s: %w", nsPath, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo in %s: read its flags: %w", nsPath, err)
	}
	if ifr.Uint16()&unix.IFF_UP != 0 {
		return nil
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo in %s: set it up: %w", nsPath, err)
	}
	return nil
}

// socketIn opens an AF_INET datagram socket inside the network namespace
// at nsPath.
func socketIn(nsPath string) (int, error) {
	target, err := os.Open(nsPath)
	if err != nil {
		return -1, err
	}
	defer target.Close()
	type result struct {
		fd  int
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		own, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{-1, err}
			return
		}
		defer own.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{-1, fmt.Errorf("enter the namespace: %w", err)}
			return
		}
		fd, serr := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
			// The thread is left locked: it ends with this goroutine.
			if serr == nil {
				unix.Close(fd)
			}
			done <- result{-1, fmt.Errorf("return to Budgie's namespace: %w", err)}
			return
		}
		runtime.UnlockOSThread()
		if serr != nil {
			serr = fmt.Errorf("open a socket there: %w", serr)
		}
		done <- result{fd, serr}
	}()
	r := <-done
	return r.fd, r.err
}
