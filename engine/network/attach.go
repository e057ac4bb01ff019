package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/timing"
	"github.com/budgie-sh/budgie/models"
)

// DefaultIfName is the interface name Attach uses when none is given.
const DefaultIfName = "eth0"

// maxIfNameLen is the kernel's limit on interface names.
const maxIfNameLen = 15

// requiredPlugins are the CNI plugins Attach runs.
var requiredPlugins = []string{"bridge", "host-local"}

// AttachOptions say which namespace joins which network.
type AttachOptions struct {
	// ContainerID identifies the attachment (and its lease).
	ContainerID string
	// ContainerName is copied to the endpoint; it may be empty.
	ContainerName string
	// Network is the network's name.
	Network string
	// NetNS is the namespace's path, such as /proc/PID/ns/net.
	NetNS string
	// IfName is the interface inside the namespace; empty means eth0.
	IfName string
	// RulesReady says the caller ran Prepare for this network moments ago,
	// so Attach need not check the firewall rules again.
	RulesReady bool
}

// Prepare makes each named network ready for Attach without a namespace:
// it installs the firewall rules that are missing and turns on
// forwarding. A container's start runs it while containerd creates the
// task, then attaches with RulesReady. Unknown networks are ErrNotFound.
func (m *Manager) Prepare(ctx context.Context, networks []string) error {
	defer timing.Start(ctx, "run/start/network-prepare/firewall")()
	for _, name := range networks {
		err := m.locked(ctx, func() error {
			n, err := m.Get(ctx, name)
			if err != nil {
				return err
			}
			return ensureRules(ctx, n)
		})
		if err != nil {
			return fmt.Errorf("prepare network %s: %w", name, err)
		}
	}
	return nil
}

// Attach joins a network namespace to a network (CNI ADD) and brings its
// loopback interface up. It fails with ErrNotFound for an unknown network,
// ErrConflict when the container already has an interface of that name,
// and ErrUnavailable when the CNI plugins are missing. A failed Attach
// leaves no lease and no interface behind.
func (m *Manager) Attach(ctx context.Context, opts AttachOptions) (models.Endpoint, error) {
	if opts.IfName == "" {
		opts.IfName = DefaultIfName
	}
	if err := checkAttach(opts); err != nil {
		return models.Endpoint{}, err
	}
	if err := m.checkPlugins(); err != nil {
		return models.Endpoint{}, err
	}
	var ep models.Endpoint
	err := m.locked(ctx, func() error {
		n, err := m.Get(ctx, opts.Network) // under the lock: Remove may run meanwhile
		if err != nil {
			return err
		}
		list, err := m.cniList(n)
		if err != nil {
			return err
		}
		if err := m.checkFree(opts); err != nil {
			return err
		}
		if !opts.RulesReady {
			end := timing.Start(ctx, "run/start/network/firewall")
			err = ensureRules(ctx, n)
			end()
			if err != nil {
				return err
			}
		}
		ep, err = m.add(ctx, list, n, opts)
		return err
	})
	if errors.Is(err, errdefs.ErrNotFound) {
		return models.Endpoint{}, err
	}
	if err != nil {
		return models.Endpoint{}, fmt.Errorf("attach %s to network %s: %w", models.ShortID(opts.ContainerID), opts.Network, err)
	}
	return ep, nil
}

func checkAttach(opts AttachOptions) error {
	switch {
	case opts.ContainerID == "":
		return fmt.Errorf("attach to network %s: no container ID given: %w", opts.Network, errdefs.ErrInvalid)
	case opts.NetNS == "":
		return fmt.Errorf("attach %s to network %s: no network namespace given: %w",
			models.ShortID(opts.ContainerID), opts.Network, errdefs.ErrInvalid)
	case len(opts.IfName) > maxIfNameLen || opts.IfName == "lo":
		return fmt.Errorf("attach %s to network %s: interface name %q is invalid: %w",
			models.ShortID(opts.ContainerID), opts.Network, opts.IfName, errdefs.ErrInvalid)
	}
	return nil
}

// checkFree refuses an interface name the container already holds a lease
// for on any network; adding it again would fail, and the cleanup DEL would
// then tear down the existing interface.
func (m *Manager) checkFree(opts AttachOptions) error {
	leases, err := m.leases("")
	if err != nil {
		return err
	}
	for _, l := range leases {
		if l.ContainerID == opts.ContainerID && l.IfName == opts.IfName {
			return fmt.Errorf("container already has interface %s on network %s (detach it first): %w",
				l.IfName, l.Network, errdefs.ErrConflict)
		}
	}
	return nil
}

// add runs ADD for the network and, at the same time, brings lo up in the
// namespace (loopbackUp), undoing the network's ADD when either fails.
// Callers hold the lock.
func (m *Manager) add(ctx context.Context, list *libcni.NetworkConfigList, n models.Network, opts AttachOptions) (models.Endpoint, error) {
	cni := m.cniConfig()
	rt := &libcni.RuntimeConf{ContainerID: opts.ContainerID, NetNS: opts.NetNS, IfName: opts.IfName}
	undo := func(err error) error {
		derr := cni.DelNetworkList(context.WithoutCancel(ctx), list, rt)
		if derr != nil {
			derr = fmt.Errorf("undo failed too (the lease is released before a later start): %w", derr)
		}
		return errors.Join(err, derr)
	}
	loopback := make(chan error, 1)
	go func() {
		defer timing.Start(ctx, "run/start/network/loopback")()
		loopback <- loopbackUp(opts.NetNS)
	}()
	end := timing.Start(ctx, "run/start/network/cni-bridge")
	res, err := cni.AddNetworkList(ctx, list, rt)
	end()
	loErr := <-loopback
	if err != nil {
		return models.Endpoint{}, undo(err)
	}
	if loErr != nil {
		return models.Endpoint{}, undo(fmt.Errorf("bring up loopback: %w", loErr))
	}
	ep, err := endpointOf(res, n, opts)
	if err != nil {
		return models.Endpoint{}, undo(err)
	}
	return ep, nil
}

// endpointOf reads the address and MAC that the plugins gave opts.IfName.
func endpointOf(res types.Result, n models.Network, opts AttachOptions) (models.Endpoint, error) {
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return models.Endpoint{}, fmt.Errorf("read CNI result: %w", err)
	}
	ep := models.Endpoint{
		Network: n.Name, ContainerID: opts.ContainerID, ContainerName: opts.ContainerName,
		IfName: opts.IfName, Gateway: n.Gateway,
	}
	idx := -1
	for i, ifc := range r.Interfaces {
		if ifc.Name == opts.IfName && ifc.Sandbox != "" {
			idx, ep.MAC = i, ifc.Mac
		}
	}
	for _, ip := range r.IPs {
		if ip.Address.IP.To4() == nil || (idx >= 0 && ip.Interface != nil && *ip.Interface != idx) {
			continue
		}
		ep.IP = ip.Address.IP.String()
		ep.PrefixLen, _ = ip.Address.Mask.Size()
		return ep, nil
	}
	return ep, fmt.Errorf("the CNI plugins gave %s no IPv4 address: %w", opts.IfName, errdefs.ErrUnavailable)
}

// DetachOptions say which attachment to undo.
type DetachOptions struct {
	// ContainerID is the attached container.
	ContainerID string
	// Network is the network's name.
	Network string
	// NetNS is the namespace's path; empty when the namespace is gone, in
	// which case only the lease (and anything outside it) is released.
	NetNS string
	// IfName is the interface; empty means every interface the container
	// has on the network.
	IfName string
}

// Detach undoes an Attach (CNI DEL): it deletes the interface when the
// namespace still exists and releases the lease. Detaching what is not
// attached, or from a network that no longer exists, is not an error.
func (m *Manager) Detach(ctx context.Context, opts DetachOptions) error {
	if opts.ContainerID == "" {
		return fmt.Errorf("detach from network %s: no container ID given: %w", opts.Network, errdefs.ErrInvalid)
	}
	n, err := m.Get(ctx, opts.Network)
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	list, err := m.cniList(n)
	if err != nil {
		return err
	}
	err = m.locked(ctx, func() error {
		ifnames := []string{opts.IfName}
		if opts.IfName == "" {
			if ifnames, err = m.ifNamesOf(n.Name, opts.ContainerID); err != nil {
				return err
			}
		}
		var errs []error
		for _, ifname := range ifnames {
			rt := &libcni.RuntimeConf{ContainerID: opts.ContainerID, NetNS: opts.NetNS, IfName: ifname}
			if err := m.cniConfig().DelNetworkList(ctx, list, rt); err != nil {
				errs = append(errs, err)
			}
		}
		m.removeLegacyLoopbackResult(opts.ContainerID)
		return errors.Join(errs...)
	})
	if err != nil {
		return fmt.Errorf("detach %s from network %s: %w", models.ShortID(opts.ContainerID), n.Name, err)
	}
	return nil
}

// removeLegacyLoopbackResult deletes the result libcni cached when lo was
// brought up by CNI's loopback plugin (before loopbackUp), which no DEL
// ever removed. Only an ID of hex digits (as Budgie makes them) becomes a
// file name.
func (m *Manager) removeLegacyLoopbackResult(id string) {
	if id == "" || len(id) > 64 || strings.Trim(id, "0123456789abcdef") != "" {
		return
	}
	_ = os.Remove(filepath.Join(m.cacheDir(), "results", "budgie-loopback-"+id+"-lo"))
}

func (m *Manager) ifNamesOf(network, id string) ([]string, error) {
	leases, err := m.leases(network)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range leases {
		if l.ContainerID == id && !slices.Contains(out, l.IfName) {
			out = append(out, l.IfName)
		}
	}
	return out, nil
}

// GC releases the leases of containers that keep does not name (gone, not
// running), such as those left when containerd restarted under running
// containers, and returns what it released. keep is called once, under
// the lock attachments take, with the containers that hold leases (each
// once); an error from it is returned, and the leases are still released
// by the set it returned unless that is nil. Leases on networks whose
// definition is gone, or naming no container, are deleted outright.
func (m *Manager) GC(ctx context.Context, keep func(leased []string) (map[string]bool, error)) ([]models.Endpoint, error) {
	var released []models.Endpoint
	err := m.locked(ctx, func() error {
		leases, err := m.leases("")
		if err != nil {
			return err
		}
		var ids []string
		for _, l := range leases {
			if l.ContainerID != "" && !slices.Contains(ids, l.ContainerID) {
				ids = append(ids, l.ContainerID)
			}
		}
		kept, kerr := keep(ids)
		if kept == nil {
			return kerr
		}
		errs := []error{kerr}
		for _, l := range leases {
			if kept[l.ContainerID] {
				continue
			}
			if err := m.release(ctx, l); err != nil {
				errs = append(errs, err)
				continue
			}
			released = append(released, l)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		return released, fmt.Errorf("release stale network leases: %w", err)
	}
	return released, nil
}

// release runs DEL without a namespace for lease l. Callers hold the lock.
func (m *Manager) release(ctx context.Context, l models.Endpoint) error {
	n, err := m.Get(ctx, l.Network)
	if errors.Is(err, errdefs.ErrNotFound) || l.ContainerID == "" {
		return m.removeLeaseFile(l)
	}
	if err != nil {
		return err
	}
	list, err := m.cniList(n)
	if err != nil {
		return err
	}
	rt := &libcni.RuntimeConf{ContainerID: l.ContainerID, IfName: l.IfName}
	if err := m.cniConfig().DelNetworkList(ctx, list, rt); err != nil {
		return fmt.Errorf("release %s on network %s: %w", l.IP, l.Network, err)
	}
	return nil
}

// cniConfig runs plugins from the Manager's directories, caching results
// under DataDir/cni/cache and discarding the plugins' stderr (their errors
// come on stdout).
func (m *Manager) cniConfig() *libcni.CNIConfig {
	exec := &invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: io.Discard}, PluginDecoder: version.PluginDecoder{}}
	return libcni.NewCNIConfigWithCacheDir(m.pluginDirs, m.cacheDir(), exec)
}

func (m *Manager) cniList(n models.Network) (*libcni.NetworkConfigList, error) {
	b, err := m.conflist(n)
	if err != nil {
		return nil, err
	}
	list, err := libcni.ConfListFromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("parse CNI list of network %s: %w", n.Name, err)
	}
	return list, nil
}

// checkPlugins fails with ErrUnavailable when a plugin Attach needs is
// missing from every plugin directory.
func (m *Manager) checkPlugins() error {
	for _, p := range requiredPlugins {
		if _, err := invoke.FindInPath(p, m.pluginDirs); err != nil {
			return fmt.Errorf("CNI plugin %q not found in %v (install them: apt-get install containernetworking-plugins): %w",
				p, m.pluginDirs, errdefs.ErrUnavailable)
		}
	}
	return nil
}

// prefixOf is the prefix length of n's subnet; 0 when it does not parse.
func prefixOf(n models.Network) int {
	p, err := netip.ParsePrefix(n.Subnet)
	if err != nil {
		return 0
	}
	return p.Bits()
}
