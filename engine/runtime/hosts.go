package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/timing"
	"github.com/budgie-sh/budgie/models"
)

// RefreshHosts rewrites the hosts file of every running container so that
// containers sharing a network reach each other by name. Replicas also
// answer to their service's name.
//
// Refreshes are serialised by an flock, since the CLI, nest and the keeper
// all refresh (a stop, and the keeper on the task's exit). One that gets
// the lock after another process's refresh listed the containers later
// than this call began has nothing to add, and returns at once: that
// listing already saw whatever change the caller made before calling.
func (r *Runtime) RefreshHosts(ctx context.Context) error {
	if r.opts.Networks == nil {
		return nil
	}
	asked := hostsClock()
	end := timing.Start(ctx, "hosts/lock")
	lock, err := lockFile(filepath.Join(r.opts.DataDir, "hosts", r.opts.Namespace, ".lock")) // also holds the stamp
	end()
	if err != nil {
		return err
	}
	defer lock.Close()
	if listed, ok := readHostsStamp(lock); ok && asked.before(listed) {
		return nil
	}
	listed := hostsClock()
	end = timing.Start(ctx, "hosts/list")
	all, err := r.readAll(ctx) // the keeper's annotations change no address
	end()
	if err != nil {
		return err
	}
	defer timing.Start(ctx, "hosts/write")()
	if err := writeAllHosts(all, r.HostsPath); err != nil {
		return err // no stamp: the next refresh must not skip
	}
	return writeHostsStamp(lock, listed)
}

// writeAllHosts writes each running container's hosts file at path(ID):
// its own addresses, then the others on its networks.
func writeAllHosts(all []models.Container, path func(id string) string) error {
	byNet := map[string][]network.HostEntry{}
	running := all[:0:0]
	for _, c := range all {
		if c.State != models.StateRunning || len(c.Endpoints) == 0 {
			continue
		}
		running = append(running, c)
		for _, ep := range c.Endpoints {
			byNet[ep.Network] = append(byNet[ep.Network], network.HostEntry{IP: ep.IP, Names: hostNames(c)})
		}
	}
	for _, members := range byNet {
		network.SortPeers(members) // once: each file's peers then come in order
	}
	errs := make([]error, len(running))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(hostsWriters, len(running)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(running); i = int(next.Add(1)) - 1 {
				err := network.WriteHosts(path(running[i].ID), hostsOf(running[i], byNet))
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					errs[i] = err
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// hostsOf is c's hosts: its own addresses, and the members of its
// networks (sorted) but for itself.
func hostsOf(c models.Container, byNet map[string][]network.HostEntry) network.Hosts {
	var h network.Hosts
	for _, ep := range c.Endpoints {
		h.Self = append(h.Self, network.HostEntry{IP: ep.IP, Names: hostNames(c)})
		for _, m := range byNet[ep.Network] {
			if m.IP != ep.IP {
				h.Peers = append(h.Peers, m)
			}
		}
	}
	return h
}

// hostsWriters is how many hosts files a refresh renders and writes at
// once: each is a few system calls and a render that grows with the
// network, so a busy node's refresh keeps more than one core busy.
const hostsWriters = 4

// hostNames are the names a container answers to: its name, its hostname
// and, for a replica, its service.
func hostNames(c models.Container) []string {
	names := []string{c.Name}
	if c.Spec.Hostname != "" && c.Spec.Hostname != c.Name {
		names = append(names, c.Spec.Hostname)
	}
	if c.Service != "" && c.Service != c.Name {
		names = append(names, c.Service)
	}
	return names
}

// hostsTime is a moment on this boot's monotonic clock (CLOCK_BOOTTIME),
// which every process on the machine reads alike and no clock change
// moves; boot tells one boot's readings from another's.
type hostsTime struct {
	boot string
	ns   int64
}

func (t hostsTime) before(u hostsTime) bool { return t.boot != "" && t.boot == u.boot && t.ns < u.ns }

// hostsClock reads the clock; without a boot ID it returns a time that is
// before no other, so refreshes are never skipped.
func hostsClock() hostsTime {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return hostsTime{}
	}
	boot := bootID()
	if boot == "" {
		return hostsTime{}
	}
	return hostsTime{boot: boot, ns: ts.Nano()}
}

// bootID is the kernel's ID of this boot, read once (it cannot change
// while the process runs); "" when it cannot be read.
var bootID = sync.OnceValue(func() string {
	id, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(id))
})

// readHostsStamp reads "BOOT-ID NANOSECONDS" from the lock file; ok is
// false for anything else (an empty file, an older Budgie's).
func readHostsStamp(f *os.File) (hostsTime, bool) {
	buf := make([]byte, 128)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return hostsTime{}, false
	}
	boot, ns, ok := strings.Cut(strings.TrimSpace(string(buf[:n])), " ")
	v, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || boot == "" {
		return hostsTime{}, false
	}
	return hostsTime{boot: boot, ns: v}, true
}

// writeHostsStamp records when the refresh that holds the lock listed
// the containers.
func writeHostsStamp(f *os.File, t hostsTime) error {
	if t.boot == "" {
		return nil
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("record the hosts refresh: %w", err)
	}
	if _, err := f.WriteAt([]byte(t.boot+" "+strconv.FormatInt(t.ns, 10)+"\n"), 0); err != nil {
		return fmt.Errorf("record the hosts refresh: %w", err)
	}
	return nil
}
