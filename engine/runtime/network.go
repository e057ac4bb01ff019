package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"

	containerd "github.com/containerd/containerd"
	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	tasktypes "github.com/containerd/containerd/api/types/task"
	cerrdefs "github.com/containerd/errdefs"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/timing"
	"github.com/budgie-sh/budgie/models"
)

// LabelEndpoints holds the JSON list of the running task's network
// endpoints; it is cleared when the task is deleted.
const LabelEndpoints = "budgie.endpoints"

// networksOf returns the networks a spec joins: its own list, or the
// default network; nil for the host network.
func networksOf(spec models.ContainerSpec) []string {
	if UsesHostNetwork(spec) {
		return nil
	}
	if len(spec.Networks) == 0 {
		return []string{models.DefaultNetwork}
	}
	return slices.DeleteFunc(slices.Clone(spec.Networks), func(n string) bool { return n == NoNetwork })
}

// UsesHostNetwork reports whether the container shares the host's network
// namespace: its bundle says networks: [host], or the runtime has no
// network manager.
func UsesHostNetwork(spec models.ContainerSpec) bool {
	return slices.Contains(spec.Networks, models.HostNetwork)
}

// hostNetwork reports whether this runtime runs spec in the host namespace.
func (r *Runtime) hostNetwork(spec models.ContainerSpec) bool {
	return r.opts.Networks == nil || UsesHostNetwork(spec)
}

// HostsPath is the hosts file bind-mounted at /etc/hosts in container id.
func (r *Runtime) HostsPath(id string) string {
	return filepath.Join(r.opts.DataDir, "hosts", r.opts.Namespace, id)
}

// checkNetworks refuses unknown networks and host mixed with others.
func (r *Runtime) checkNetworks(ctx context.Context, spec models.ContainerSpec) error {
	if UsesHostNetwork(spec) {
		if len(spec.Networks) > 1 {
			return fmt.Errorf("container %s: networks: %q cannot be combined with other networks: %w",
				spec.Name, models.HostNetwork, errdefs.ErrInvalid)
		}
		if len(spec.Ports) > 0 {
			return fmt.Errorf("container %s: ports: a container on the host network needs no published ports "+
				"(its ports are the host's): remove ports or the host network: %w", spec.Name, errdefs.ErrInvalid)
		}
		return nil
	}
	if r.opts.Networks == nil {
		if len(spec.Networks) > 0 || len(spec.Ports) > 0 {
			return fmt.Errorf("container %s: this runtime has no network manager: %w", spec.Name, errdefs.ErrNotSupported)
		}
		return nil
	}
	if slices.Contains(spec.Networks, NoNetwork) && len(spec.Networks) > 1 {
		return fmt.Errorf("container %s: networks: %q cannot be combined with other networks: %w",
			spec.Name, NoNetwork, errdefs.ErrInvalid)
	}
	for _, n := range networksOf(spec) {
		if _, err := r.opts.Networks.Get(ctx, n); err != nil {
			return fmt.Errorf("container %s: %w", spec.Name, err)
		}
	}
	return nil
}

// attachNetworks joins the network namespace at netns (a created, not yet
// started task's, or a pinned one) to the container's networks and records
// the endpoints; on failure it detaches what it did.
func (r *Runtime) attachNetworks(ctx context.Context, cc containerd.Container, netns string, spec models.ContainerSpec) error {
	nets := networksOf(spec)
	if r.opts.Networks == nil || len(nets) == 0 {
		return nil
	}
	var eps []models.Endpoint
	for i, n := range nets {
		ep, err := r.opts.Networks.Attach(ctx, network.AttachOptions{
			ContainerID: cc.ID(), ContainerName: spec.Name, Network: n, NetNS: netns, IfName: "eth" + strconv.Itoa(i),
			RulesReady: true,
		})
		if err != nil {
			r.detachEndpoints(ctx, cc.ID(), eps)
			return fmt.Errorf("join network %s: %w", n, err)
		}
		eps = append(eps, ep)
	}
	if err := r.setEndpoints(ctx, cc, eps); err != nil {
		r.detachEndpoints(ctx, cc.ID(), eps)
		return err
	}
	return nil
}

// beginNetworks starts, in the background, the network work of a start
// that needs no task: leases of containers without a live task are
// collected and each network's firewall rules checked (Prepare); with a
// pinned namespace, the container then joins its networks there. The
// start path runs it while containerd creates the task; the returned
// function waits for it and returns its error (having undone a partial
// join).
func (r *Runtime) beginNetworks(ctx context.Context, cc containerd.Container, spec models.ContainerSpec, pinned string) (wait func() error) {
	nets := networksOf(spec)
	if r.opts.Networks == nil || len(nets) == 0 {
		return func() error { return nil }
	}
	done := make(chan error, 1)
	go func() {
		end := timing.Start(ctx, "run/start/network-prepare/leases")
		err := r.gcLeases(ctx, cc.ID())
		end()
		if err == nil {
			err = r.opts.Networks.Prepare(ctx, nets)
		}
		if err == nil && pinned != "" {
			end := timing.Start(ctx, "run/start/network")
			err = r.attachNetworks(ctx, cc, pinned, spec)
			end()
		}
		done <- err
	}()
	return func() error { return <-done }
}

// detachNetworks releases every endpoint recorded on the container (its
// task is gone or going) and clears the record.
func (r *Runtime) detachNetworks(ctx context.Context, cc containerd.Container) error {
	if r.opts.Networks == nil {
		return nil
	}
	labels, err := cc.Labels(ctx)
	if err != nil {
		return errdefs.FromContainerd(err)
	}
	eps := decodeEndpoints(labels)
	if len(eps) == 0 {
		return nil
	}
	r.detachEndpoints(ctx, cc.ID(), eps)
	return r.setEndpoints(ctx, cc, nil)
}

func (r *Runtime) detachEndpoints(ctx context.Context, id string, eps []models.Endpoint) {
	ctx = context.WithoutCancel(ctx)
	for _, ep := range eps {
		_ = r.opts.Networks.Detach(ctx, network.DetachOptions{ContainerID: id, Network: ep.Network, IfName: ep.IfName})
	}
}

func (r *Runtime) setEndpoints(ctx context.Context, cc containerd.Container, eps []models.Endpoint) error {
	v := ""
	if len(eps) > 0 {
		b, err := json.Marshal(eps)
		if err != nil {
			return fmt.Errorf("encode endpoints: %w", err)
		}
		v = string(b)
	}
	_, err := cc.SetLabels(ctx, map[string]string{LabelEndpoints: v})
	if err != nil {
		return fmt.Errorf("record endpoints of %s: %w", models.ShortID(cc.ID()), errdefs.FromContainerd(err))
	}
	return nil
}

func decodeEndpoints(labels map[string]string) []models.Endpoint {
	var eps []models.Endpoint
	if v := labels[LabelEndpoints]; v != "" {
		_ = json.Unmarshal([]byte(v), &eps)
	}
	return eps
}

// CollectLeases releases the IP leases of containers that have no live
// task: leases left by a containerd restart or by a task that died while no
// Budgie process watched (nerdctl #665). Every attach does it first.
func (r *Runtime) CollectLeases(ctx context.Context) error {
	if r.opts.Networks == nil {
		return nil
	}
	return r.gcLeases(ctx, "")
}

// gcLeases releases the leases, and unpins the namespaces, of containers
// with no live task. A start holds its container's start lock from before
// its namespace and lease exist until its task does. So a container whose
// task is not listed is a candidate only if its lock can be taken; it is
// held while its task is asked for again and its namespace unpinned, so no
// start of it can begin or end in between.
//
// starting, when not "", is the container this process is starting: its
// new task does not exist yet, so a lease it holds was left by its last
// task (one that died with the machine or with containerd), and is
// released although this process holds its start lock; its namespace,
// pinned for the new task already, is left alone.
func (r *Runtime) gcLeases(ctx context.Context, starting string) error {
	_, err := r.opts.Networks.GC(ctx, func(leased []string) (map[string]bool, error) {
		end := timing.Start(ctx, "leases/tasks")
		live, err := r.liveTasks(ctx)
		end()
		if err != nil {
			return nil, err
		}
		var candidates []string
		held := map[string]func(){} // the candidates' start locks taken
		defer func() {
			for _, unlock := range held {
				unlock()
			}
		}()
		delete(live, starting) // its new task may be listed already: not the lease's
		for _, id := range append(leased, r.pinnedIDs()...) {
			if id == starting || live[id] || slices.Contains(candidates, id) {
				continue
			}
			unlock, busy := r.tryLockStart(id)
			if busy {
				live[id] = true
				continue
			}
			candidates = append(candidates, id)
			if unlock != nil {
				held[id] = unlock
			}
		}
		// Ask again, under the candidates' locks, for each candidate only:
		// there are few, where the first listing asked every shim.
		end = timing.Start(ctx, "leases/tasks-again")
		defer end()
		var errs []error
		for _, id := range candidates {
			again, err := r.taskLive(ctx, id)
			if err != nil {
				return nil, err
			}
			if again {
				live[id] = true
			} else if held[id] != nil {
				errs = append(errs, unpinNetNS(r.NetNSPath(id)))
			}
		}
		return live, errors.Join(errs...)
	})
	return err
}

// taskLive reports whether container id has a task that is not stopped:
// one call to its shim, where liveTasks asks every shim (containerd 1.6).
func (r *Runtime) taskLive(ctx context.Context, id string) (bool, error) {
	resp, err := r.client.TaskService().Get(r.ns(ctx), &tasks.GetRequest{ContainerID: id})
	if err != nil {
		if taskNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("get task of %s: %w", models.ShortID(id), errdefs.FromContainerd(err))
	}
	return resp.Process != nil && resp.Process.Status != tasktypes.Status_STOPPED, nil
}

// liveTasks lists the containers whose task is not stopped.
func (r *Runtime) liveTasks(ctx context.Context) (map[string]bool, error) {
	resp, err := r.client.TaskService().List(r.ns(ctx), &tasks.ListTasksRequest{})
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", errdefs.FromContainerd(err))
	}
	live := map[string]bool{}
	for _, t := range resp.Tasks {
		if t.Status != tasktypes.Status_STOPPED {
			live[t.ID] = true
		}
	}
	return live, nil
}

// writeInitialHosts creates the container's hosts file (localhost only)
// before its first start, so the bind mount has a source.
func (r *Runtime) writeInitialHosts(id string, undo *undoStack) error {
	path := r.HostsPath(id)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create hosts directory: %w", err)
	}
	undo.push(func() { _ = os.Remove(path) })
	return network.WriteHosts(path, network.Hosts{})
}

// NetworkOptions name the network for Connect and Disconnect.
type NetworkOptions struct {
	// Network is the network's name.
	Network string
}

// Connect joins a running container to one more network (docker network
// connect). The network is added to the container's spec, so it is joined
// again on every later start.
func (r *Runtime) Connect(ctx context.Context, ref string, opts NetworkOptions) (models.Endpoint, error) {
	c, cc, err := r.load(ctx, ref)
	if err != nil {
		return models.Endpoint{}, err
	}
	ctx = r.ns(ctx)
	if r.hostNetwork(c.Spec) {
		return models.Endpoint{}, fmt.Errorf("container %s uses the host network and cannot join others: %w", c.Name, errdefs.ErrInvalid)
	}
	if _, err := r.opts.Networks.Get(ctx, opts.Network); err != nil {
		return models.Endpoint{}, err
	}
	nets := networksOf(c.Spec)
	if slices.Contains(nets, opts.Network) {
		return models.Endpoint{}, fmt.Errorf("container %s is already on network %s: %w", c.Name, opts.Network, errdefs.ErrConflict)
	}
	if c.State != models.StateRunning {
		return models.Endpoint{}, fmt.Errorf("container %s is %s: start it first (budgie start %s): %w", c.Name, c.State, c.Name, errdefs.ErrConflict)
	}
	task, err := cc.Task(ctx, nil)
	if err != nil {
		return models.Endpoint{}, fmt.Errorf("connect %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	ep, err := r.opts.Networks.Attach(ctx, network.AttachOptions{
		ContainerID: c.ID, ContainerName: c.Name, Network: opts.Network,
		NetNS: fmt.Sprintf("/proc/%d/ns/net", task.Pid()), IfName: nextIfName(c.Endpoints),
	})
	if err != nil {
		return models.Endpoint{}, fmt.Errorf("connect %s to %s: %w", c.Name, opts.Network, err)
	}
	spec := c.Spec
	spec.Networks = append(slices.Clone(nets), opts.Network) // "none" is dropped by networksOf
	if err := r.updateNetworks(ctx, cc, spec, append(c.Endpoints, ep)); err != nil {
		r.detachEndpoints(ctx, c.ID, []models.Endpoint{ep})
		return models.Endpoint{}, err
	}
	return ep, r.RefreshHosts(ctx)
}

// Disconnect takes a container off a network (docker network disconnect);
// it works on stopped containers too, removing the network from its spec.
func (r *Runtime) Disconnect(ctx context.Context, ref string, opts NetworkOptions) error {
	c, cc, err := r.load(ctx, ref)
	if err != nil {
		return err
	}
	ctx = r.ns(ctx)
	nets := networksOf(c.Spec)
	if r.hostNetwork(c.Spec) || !slices.Contains(nets, opts.Network) {
		return fmt.Errorf("container %s is not on network %s: %w", c.Name, opts.Network, errdefs.ErrNotFound)
	}
	var keep, gone []models.Endpoint
	for _, ep := range c.Endpoints {
		if ep.Network == opts.Network {
			gone = append(gone, ep)
		} else {
			keep = append(keep, ep)
		}
	}
	if task, err := cc.Task(ctx, nil); err == nil && len(gone) > 0 {
		for _, ep := range gone {
			if err := r.opts.Networks.Detach(ctx, network.DetachOptions{
				ContainerID: c.ID, Network: ep.Network, IfName: ep.IfName,
				NetNS: fmt.Sprintf("/proc/%d/ns/net", task.Pid()),
			}); err != nil {
				return fmt.Errorf("disconnect %s from %s: %w", c.Name, opts.Network, err)
			}
		}
	} else if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("disconnect %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	spec := c.Spec
	spec.Networks = slices.DeleteFunc(slices.Clone(nets), func(n string) bool { return n == opts.Network })
	if len(spec.Networks) == 0 { // nets was never empty: it held opts.Network
		// An empty list means the default network; a container taken off
		// every network keeps only its loopback interface.
		spec.Networks = []string{NoNetwork}
	}
	if err := r.updateNetworks(ctx, cc, spec, keep); err != nil {
		return err
	}
	return r.RefreshHosts(ctx)
}

// NoNetwork is recorded as a container's only network after it was
// disconnected from all of them: it has loopback only (docker's "none").
const NoNetwork = "none"

// updateNetworks stores a changed spec and endpoint list on the container.
func (r *Runtime) updateNetworks(ctx context.Context, cc containerd.Container, spec models.ContainerSpec, eps []models.Endpoint) error {
	labels, err := cc.Labels(ctx)
	if err != nil {
		return errdefs.FromContainerd(err)
	}
	set := map[string]string{}
	for k := range labels {
		if len(k) > len(LabelSpec) && k[:len(LabelSpec)+1] == LabelSpec+"." {
			set[k] = ""
		}
	}
	if err := encodeSpec(spec, set); err != nil {
		return err
	}
	if _, err := cc.SetLabels(ctx, set); err != nil {
		return fmt.Errorf("record networks of %s: %w", spec.Name, errdefs.FromContainerd(err))
	}
	return r.setEndpoints(ctx, cc, eps)
}

func nextIfName(eps []models.Endpoint) string {
	for i := 0; ; i++ {
		name := "eth" + strconv.Itoa(i)
		if !slices.ContainsFunc(eps, func(ep models.Endpoint) bool { return ep.IfName == name }) {
			return name
		}
	}
}

// lockFile takes an exclusive flock on path, creating it (never through
// a symbolic link); closing the returned file releases it.
func lockFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create lock directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
