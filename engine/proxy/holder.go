package proxy

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Holder is a process that holds a port.
type Holder struct {
	// Pid is its process ID.
	Pid int
	// Command is its name (/proc/PID/comm).
	Command string
}

// PortHolder finds the process holding a local port: the socket bound to
// it in /proc/net/{tcp,tcp6} (listening) or {udp,udp6}, then the process
// with that socket among its open files. It reports false when none is
// found (another network namespace, or no permission).
func PortHolder(proto string, port uint16) (Holder, bool) {
	inodes := map[string]bool{}
	for _, f := range []string{proto, proto + "6"} {
		for _, ino := range socketInodes(filepath.Join("/proc/net", f), proto, port) {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return Holder{}, false
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds := filepath.Join("/proc", p.Name(), "fd")
		entries, err := os.ReadDir(fds)
		if err != nil {
			continue
		}
		for _, e := range entries {
			link, err := os.Readlink(filepath.Join(fds, e.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				comm, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				return Holder{Pid: pid, Command: strings.TrimSpace(string(comm))}, true
			}
		}
	}
	return Holder{}, false
}

// socketInodes lists the inodes of the sockets bound to port in one
// /proc/net table: listening ones for tcp (state 0A), any for udp.
func socketInodes(path, proto string, port uint16) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", port)
	var out []string
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || !strings.HasSuffix(fields[1], want) {
			continue
		}
		if proto == "tcp" && fields[3] != "0A" {
			continue
		}
		out = append(out, fields[9])
	}
	return out
}
