package engine

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	containerd "github.com/containerd/containerd"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// SystemInfo describes the containerd Budgie uses and the node around it.
type SystemInfo struct {
	// Containerd is "managed" (Budgie's own) or "external".
	Containerd string `json:"containerd"`
	// Version and Revision are containerd's.
	Version  string `json:"version"`
	Revision string `json:"revision"`
	// Socket is containerd's address.
	Socket string `json:"socket"`
	// Pid is the managed containerd's process ID (0 when external).
	Pid int `json:"pid,omitempty"`
	// Namespace is the containerd namespace.
	Namespace string `json:"namespace"`
	// Runtime is the OCI runtime shim and runc's version line.
	Runtime string `json:"runtime"`
	// CgroupVersion is "v1" or "v2".
	CgroupVersion string `json:"cgroup_version"`
	// Snapshotter is the snapshotter used for container roots.
	Snapshotter string `json:"snapshotter"`
	// DataDir is Budgie's data directory.
	DataDir string `json:"data_dir"`
	// Node is this node's name.
	Node string `json:"node"`
}

// InfoOptions say what Info finds out. The zero value asks for everything.
type InfoOptions struct {
	// SkipRuntimeVersion leaves runc's version out of SystemInfo.Runtime,
	// which then names only the shim: finding it out starts a runc
	// process, which nest's status bar (showing only containerd's
	// version) need not pay for while it starts.
	SkipRuntimeVersion bool
}

// Info reports on containerd and the node.
func (e *Engine) Info(ctx context.Context, opts InfoOptions) (SystemInfo, error) {
	v, err := e.Client().Version(ctx)
	if err != nil {
		return SystemInfo{}, fmt.Errorf("containerd version: %w", errdefs.FromContainerd(err))
	}
	kind := "external"
	if e.Conn.Managed {
		kind = "managed"
	}
	return SystemInfo{
		Containerd:    kind,
		Version:       v.Version,
		Revision:      v.Revision,
		Socket:        e.Conn.Address,
		Pid:           e.Conn.Pid,
		Namespace:     e.Config.Containerd.Namespace,
		Runtime:       runtimeName(opts),
		CgroupVersion: CgroupVersion(),
		Snapshotter:   containerd.DefaultSnapshotter,
		DataDir:       e.Config.DataDir,
		Node:          e.Runtime.Node(),
	}, nil
}

// CgroupVersion returns "v2" on a unified hierarchy, else "v1".
func CgroupVersion() string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return "v2"
	}
	return "v1"
}

// runtimeName is the shim's name, with runc's version line unless opts
// skip it.
func runtimeName(opts InfoOptions) string {
	const shim = "io.containerd.runc.v2"
	if opts.SkipRuntimeVersion {
		return shim
	}
	return shim + " (" + runcVersion() + ")"
}

func runcVersion() string {
	out, err := exec.Command("runc", "--version").Output()
	if err != nil {
		return "runc not found"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}
