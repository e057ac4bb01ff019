package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// A container on networks gets a network namespace made by Budgie before
// its task, bind-mounted ("pinned") on NetNSPath while the task lives, so
// that CNI joins it to its networks while containerd creates the task
// instead of after (about 45 ms of every start). Its OCI spec names that
// path; containers made before this, or made while containerd ran in
// another mount namespace (a mount Budgie makes there would not be seen by
// runc), have none and are joined through /proc/PID/ns/net after the task
// is created, as before.
//
// A start holds the container's start lock (NetNSPath + ".start") from
// before its namespace and lease exist until its task does, so that the
// lease collector of another Budgie process never mistakes a start in
// progress for a dead container (collectLeases).

// netnsDir holds the pinned namespaces of this runtime's containers.
func (r *Runtime) netnsDir() string {
	return filepath.Join(r.opts.DataDir, "netns", r.opts.Namespace)
}

// NetNSPath is where container id's network namespace is pinned while its
// task lives (for containers whose spec names it).
func (r *Runtime) NetNSPath(id string) string { return filepath.Join(r.netnsDir(), id) }

func (r *Runtime) startLockPath(id string) string { return r.NetNSPath(id) + ".start" }

// pinsNetNS reports whether containers made now get a pinned namespace:
// containerd (so runc) must share this process's mount namespace to see
// the mount. An unknown address is taken as the same namespace.
func (r *Runtime) pinsNetNS() bool {
	r.pinOnce.Do(func() { r.pinOK = sameMountNamespace(r.opts.ContainerdAddress) })
	return r.pinOK
}

// sameMountNamespace asks the kernel who answers on the containerd socket
// at addr and compares its mount namespace with this process's.
func sameMountNamespace(addr string) bool {
	addr = strings.TrimPrefix(addr, "unix://")
	if addr == "" {
		return true
	}
	c, err := net.Dial("unix", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	raw, err := c.(*net.UnixConn).SyscallConn()
	if err != nil {
		return false
	}
	var cred *unix.Ucred
	cerr := raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if cerr != nil || err != nil || cred.Pid <= 0 {
		return false
	}
	theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", cred.Pid))
	if err != nil {
		return false
	}
	ours, err := os.Readlink("/proc/self/ns/mnt")
	return err == nil && ours == theirs
}

// pinnedNetNSOpt is the spec option naming container id's pinned namespace.
func (r *Runtime) pinnedNetNSOpt(id string) oci.SpecOpts {
	return oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: r.NetNSPath(id)})
}

// specNetNSPath returns the network namespace path an OCI spec names; ""
// when it names none (runc makes a new namespace, or the host's is used).
func specNetNSPath(spec typeurl.Any) (string, error) {
	if spec == nil {
		return "", nil
	}
	var s struct {
		Linux *struct {
			Namespaces []specs.LinuxNamespace `json:"namespaces"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(spec.GetValue(), &s); err != nil {
		return "", fmt.Errorf("read the container's OCI spec: %w", err)
	}
	if s.Linux == nil {
		return "", nil
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			return ns.Path, nil
		}
	}
	return "", nil
}

// pinnedPath returns where a new task of cc wants its namespace pinned: the
// path its spec names when that is one of Budgie's (its base name is the
// container's ID); "" for a container joined the old way. When this
// process cannot pin for containerd (another mount namespace), the path is
// taken out of the spec and the container joins the old way from now on.
func (r *Runtime) pinnedPath(ctx context.Context, cc containerd.Container, info containers.Container) (string, error) {
	path, err := specNetNSPath(info.Spec)
	if err != nil || path == "" || filepath.Base(path) != cc.ID() || !strings.Contains(path, "/netns/") {
		return "", err
	}
	if r.pinsNetNS() {
		return path, nil
	}
	err = cc.Update(ctx, func(ctx context.Context, _ *containerd.Client, c *containers.Container) error {
		var s oci.Spec
		if err := json.Unmarshal(c.Spec.GetValue(), &s); err != nil || s.Linux == nil {
			return err
		}
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = ""
			}
		}
		any, err := typeurl.MarshalAny(&s)
		c.Spec = any
		return err
	})
	if err != nil {
		return "", fmt.Errorf("containerd runs in another mount namespace; drop the pinned network namespace from the spec: %w", errdefs.FromContainerd(err))
	}
	return "", nil
}

// lockStart takes container id's start lock (see the comment at the top);
// the returned function releases it.
func (r *Runtime) lockStart(id string) (func(), error) {
	f, err := lockFile(r.startLockPath(id))
	if err != nil {
		return nil, err
	}
	return func() { _ = f.Close() }, nil
}

// tryLockStart takes container id's start lock if nobody holds it: ok
// with unlock when taken; busy when a start holds it; neither when the
// container has no lock file (it never started with a pinned namespace).
func (r *Runtime) tryLockStart(id string) (unlock func(), busy bool) {
	f, err := os.OpenFile(r.startLockPath(id), os.O_RDWR|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, false
	}
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if err != nil {
		_ = f.Close()
		return nil, errors.Is(err, unix.EWOULDBLOCK)
	}
	return func() { _ = f.Close() }, false
}

// pinNetNS makes a new network namespace and bind-mounts it on path,
// replacing a namespace left there by a task that is gone.
func pinNetNS(path string) error {
	if err := unpinNetNS(path); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create network namespace directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create network namespace: %w", err)
	}
	_ = f.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Never unlocked: the thread, in the new namespace, ends with
		// this goroutine instead of going back to the scheduler.
		goruntime.LockOSThread()
		if err = unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return
		}
		err = unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), path, "", unix.MS_BIND, "")
	}()
	wg.Wait()
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("create network namespace %s: %w", path, err)
	}
	return nil
}

// unpinNetNS unmounts the namespace pinned on path (it ends, with its
// interfaces, once no process is in it) and removes the file. A missing
// file is not an error.
func unpinNetNS(path string) error {
	for i := 0; i < 8; i++ { // a namespace pinned twice over is unmounted twice
		err := unix.Unmount(path, unix.MNT_DETACH)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			break
		}
		if err != nil {
			return fmt.Errorf("release network namespace %s: %w", path, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("release network namespace %s: %w", path, err)
	}
	return nil
}

// releaseNetNS unpins container id's namespace, if it has one, under its
// start lock (never call it holding that lock: see newTask).
func (r *Runtime) releaseNetNS(id string) error { return r.unpinLocked(id, nil) }

// ReleaseNetNS unpins the network namespace of container id when its task
// no longer runs, so that its interfaces and addresses end with the task
// as they do for a namespace runc made. The keeper calls it when a task
// exits; its lease stays until the container starts again or is removed,
// or the next start of any container collects it. A container without a
// pinned namespace is left alone.
func (r *Runtime) ReleaseNetNS(ctx context.Context, id string) error {
	return r.unpinLocked(id, func() (bool, error) {
		live, err := r.taskLive(ctx, id)
		return err == nil && !live, err
	})
}

// unpinLocked unpins container id's namespace, if it has one, holding its
// start lock, and only when unused (nil: always) says, under that lock,
// that no task is in it.
func (r *Runtime) unpinLocked(id string, unused func() (bool, error)) error {
	if _, err := os.Lstat(r.NetNSPath(id)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := r.lockStart(id)
	if err != nil {
		return err
	}
	defer unlock()
	if unused != nil {
		if ok, err := unused(); !ok {
			return err
		}
	}
	return unpinNetNS(r.NetNSPath(id))
}

// pinnedIDs lists the containers that have a pinned namespace file.
func (r *Runtime) pinnedIDs() []string {
	entries, err := os.ReadDir(r.netnsDir())
	if err != nil {
		return nil
	}
	var ids []string
	for _, e := range entries {
		if !strings.Contains(e.Name(), ".") {
			ids = append(ids, e.Name())
		}
	}
	return ids
}
