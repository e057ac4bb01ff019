package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// labNameRE matches a lab's name and captures its owner's pid (base 36).
var labNameRE = regexp.MustCompile(`^` + LabPrefix + `([0-9a-z]+)-[0-9a-z]+`)

var (
	labsMu   sync.Mutex
	openLabs = map[*Lab]bool{}
	sigOnce  sync.Once
)

// track registers an open lab, so that SIGINT or SIGTERM tears it down
// before the process exits.
func track(l *Lab) {
	labsMu.Lock()
	openLabs[l] = true
	labsMu.Unlock()
	sigOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		go func() {
			sig := <-ch
			closeAllLabs()
			fmt.Fprintf(os.Stderr, "lab: torn down after %v\n", sig)
			os.Exit(130)
		}()
	})
}

func untrack(l *Lab) {
	labsMu.Lock()
	delete(openLabs, l)
	labsMu.Unlock()
}

// closeAllLabs closes every open lab.
func closeAllLabs() {
	labsMu.Lock()
	labs := make([]*Lab, 0, len(openLabs))
	for l := range openLabs {
		labs = append(labs, l)
	}
	labsMu.Unlock()
	for _, l := range labs {
		_ = l.Close()
	}
}

// CleanStaleLabs removes what labs of processes that no longer run left
// behind: processes in their namespaces (keepers, containerd, shims,
// containers), the namespaces, bridges, veths, mounts and directories.
// Labs of live processes are left alone.
func CleanStaleLabs() error {
	stale := map[string]bool{}
	for _, name := range labNames() {
		m := labNameRE.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		pid, err := strconv.ParseInt(m[1], 36, 64)
		if err == nil && pid > 0 && syscall.Kill(int(pid), 0) == nil {
			continue
		}
		stale[m[0]] = true
	}
	for name := range stale {
		removeLab(name, filepath.Join(os.TempDir(), name))
	}
	return nil
}

// labNames lists network namespaces, interfaces and temporary directories
// whose names start with LabPrefix.
func labNames() []string {
	var names []string
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], LabPrefix) {
				names = append(names, f[0])
			}
		}
	}
	if ifaces, err := netInterfaces(); err == nil {
		for _, name := range ifaces {
			if strings.HasPrefix(name, LabPrefix) {
				names = append(names, name)
			}
		}
	}
	if dirs, err := filepath.Glob(filepath.Join(os.TempDir(), LabPrefix+"*")); err == nil {
		for _, d := range dirs {
			names = append(names, filepath.Base(d))
		}
	}
	return names
}

func netInterfaces() ([]string, error) {
	entries, err := os.ReadDir("/sys/class/net")
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

// removeLab kills everything in the lab's namespaces, deletes them and its
// bridge, stops node containerds, unmounts what is left under dir and
// removes it.
func removeLab(name, dir string) {
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || !strings.HasPrefix(f[0], name+"-") {
				continue
			}
			killNetNS(f[0])
			_ = ipCmd("netns", "del", f[0])
		}
	}
	_ = ipCmd("link", "del", name)
	nodes, _ := filepath.Glob(filepath.Join(dir, "n*", "data"))
	for _, data := range nodes {
		_ = closeNodeContainerd(data)
	}
	unmountUnder(dir)
	_ = os.RemoveAll(dir)
}

// killNetNS SIGKILLs every process in a network namespace, until none is left.
func killNetNS(ns string) {
	for range 20 {
		out, err := exec.Command("ip", "netns", "pids", ns).Output()
		if err != nil {
			return
		}
		pids := strings.Fields(string(out))
		if len(pids) == 0 {
			return
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ipCmd runs ip with args, returning its output in the error.
func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
