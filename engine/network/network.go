package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/internal/fsutil"
	"github.com/budgie-sh/budgie/models"
)

// Default network settings.
const (
	// DefaultBridge is the default network's bridge.
	DefaultBridge = "budgie0"
	// DefaultSubnet is the default network's subnet.
	DefaultSubnet = "172.20.0.0/16"
	// DefaultGateway is the default network's gateway.
	DefaultGateway = "172.20.0.1"
)

// DefaultPluginDirs are searched for CNI plugins, in order, when
// Options.PluginDirs is empty.
var DefaultPluginDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

// Options configure a Manager.
type Options struct {
	// DefaultBridge and DefaultSubnet make the default network when it does
	// not exist yet; empty means DefaultBridge and DefaultSubnet. Two Budgie
	// data directories on one host need different ones (tests, benchmarks).
	DefaultBridge, DefaultSubnet string
	// DataDir is Budgie's data directory. Network definitions live in
	// DataDir/networks, CNI leases, cache and generated lists in DataDir/cni.
	DataDir string
	// PluginDirs are searched for CNI plugins; empty means
	// DefaultPluginDirs.
	PluginDirs []string
}

// Manager creates, lists and removes networks and attaches network
// namespaces to them. It is safe for concurrent use, also across processes
// sharing a DataDir.
type Manager struct {
	dataDir    string
	pluginDirs []string
	lock       *fileLock
}

// Open returns a Manager for opts.DataDir, creating the default network's
// definition when it is missing. It touches neither links nor iptables.
func Open(opts Options) (*Manager, error) {
	if opts.DataDir == "" {
		return nil, fmt.Errorf("open networks: no data directory given: %w", errdefs.ErrInvalid)
	}
	m := &Manager{dataDir: opts.DataDir, pluginDirs: opts.PluginDirs}
	if len(m.pluginDirs) == 0 {
		m.pluginDirs = slices.Clone(DefaultPluginDirs)
	}
	if err := os.MkdirAll(m.defsDir(), 0o755); err != nil {
		return nil, fmt.Errorf("create network directory %s: %w", m.defsDir(), err)
	}
	m.lock = newFileLock(filepath.Join(m.defsDir(), ".lock"))
	if _, err := os.Stat(m.defPath(models.DefaultNetwork)); err == nil {
		return m, nil
	}
	err := m.locked(context.Background(), func() error {
		if _, err := os.Stat(m.defPath(models.DefaultNetwork)); err == nil {
			return nil
		}
		n, err := defaultNetwork(opts.DefaultBridge, opts.DefaultSubnet)
		if err != nil {
			return err
		}
		return m.save(n)
	})
	if err != nil {
		return nil, fmt.Errorf("create default network %s: %w", models.DefaultNetwork, err)
	}
	return m, nil
}

// CreateOptions configure a new network.
type CreateOptions struct {
	// Subnet is an IPv4 CIDR such as 10.30.0.0/24; empty takes the next free
	// 172.N.0.0/16.
	Subnet string
	// Gateway is the bridge's address inside Subnet; empty means the
	// subnet's first host address.
	Gateway string
	// Internal networks have no route out of the host.
	Internal bool
}

// Create defines network name and installs its firewall rules; its bridge
// appears when the first container attaches. It fails with ErrInvalid for a
// bad name, subnet or gateway and with ErrConflict when the name is taken or
// the subnet overlaps another network's.
func (m *Manager) Create(ctx context.Context, name string, opts CreateOptions) (models.Network, error) {
	if err := ValidateName(name); err != nil {
		return models.Network{}, err
	}
	var n models.Network
	err := m.locked(ctx, func() error {
		existing, err := m.load()
		if err != nil {
			return err
		}
		if slices.ContainsFunc(existing, func(e models.Network) bool { return e.Name == name }) {
			return fmt.Errorf("network %s already exists (see: budgie network ls): %w", name, errdefs.ErrConflict)
		}
		n, err = plan(name, opts, existing, hostSubnets())
		if err != nil {
			return err
		}
		if err := ensureRules(ctx, n); err != nil {
			return err
		}
		if err := m.save(n); err != nil {
			return errors.Join(err, removeRules(ctx, n))
		}
		return nil
	})
	if err != nil {
		return models.Network{}, fmt.Errorf("create network %s: %w", name, err)
	}
	return n, nil
}

// List returns every network, the default one first, then by name.
func (m *Manager) List(ctx context.Context) ([]models.Network, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m.load()
}

// Get returns network name, or ErrNotFound.
func (m *Manager) Get(ctx context.Context, name string) (models.Network, error) {
	if err := ctx.Err(); err != nil {
		return models.Network{}, err
	}
	if name == models.HostNetwork || ValidateName(name) != nil {
		return models.Network{}, notFound(name)
	}
	n, err := m.read(m.defPath(name))
	if errors.Is(err, os.ErrNotExist) {
		return models.Network{}, notFound(name)
	}
	return n, err
}

func notFound(name string) error {
	return fmt.Errorf("no network %s (see: budgie network ls): %w", name, errdefs.ErrNotFound)
}

// Remove deletes network name with its bridge, firewall rules and lease
// directory. The default network cannot be removed (ErrInvalid), nor a
// network that still has leases (ErrConflict, naming the containers).
func (m *Manager) Remove(ctx context.Context, name string) error {
	if name == models.DefaultNetwork {
		return fmt.Errorf("network %s is the default network and cannot be removed: %w", name, errdefs.ErrInvalid)
	}
	return m.locked(ctx, func() error {
		n, err := m.Get(ctx, name)
		if err != nil {
			return err
		}
		leases, err := m.leases(name)
		if err != nil {
			return err
		}
		if len(leases) > 0 {
			var ids []string
			for _, l := range leases {
				ids = append(ids, models.ShortID(l.ContainerID))
			}
			slices.Sort(ids)
			return fmt.Errorf("network %s is in use by container(s) %s (stop or disconnect them first): %w",
				name, strings.Join(slices.Compact(ids), ", "), errdefs.ErrConflict)
		}
		if err := removeRules(ctx, n); err != nil {
			return fmt.Errorf("remove network %s: %w", name, err)
		}
		if err := deleteLink(ctx, n.Bridge); err != nil {
			return fmt.Errorf("remove network %s: %w", name, err)
		}
		for _, p := range []string{m.ipamDir(name), m.conflistPath(name), m.defPath(name)} {
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("remove network %s: %w", name, err)
			}
		}
		return nil
	})
}

func (m *Manager) defsDir() string            { return filepath.Join(m.dataDir, "networks") }
func (m *Manager) defPath(name string) string { return filepath.Join(m.defsDir(), name+".json") }
func (m *Manager) cniDir() string             { return filepath.Join(m.dataDir, "cni") }
func (m *Manager) ipamRoot() string           { return filepath.Join(m.cniDir(), "ipam") }
func (m *Manager) ipamDir(name string) string { return filepath.Join(m.ipamRoot(), name) }
func (m *Manager) cacheDir() string           { return filepath.Join(m.cniDir(), "cache") }
func (m *Manager) conflistPath(n string) string {
	return filepath.Join(m.cniDir(), "net.d", n+".conflist")
}

// load reads every definition, sorted as List promises.
func (m *Manager) load() ([]models.Network, error) {
	entries, err := os.ReadDir(m.defsDir())
	if err != nil {
		return nil, fmt.Errorf("read networks: %w", err)
	}
	var out []models.Network
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() || ValidateName(name) != nil {
			continue
		}
		n, err := m.read(filepath.Join(m.defsDir(), e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // removed while we listed
		}
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b models.Network) int {
		if a.Default != b.Default {
			if a.Default {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

func (m *Manager) read(path string) (models.Network, error) {
	var n models.Network
	b, err := os.ReadFile(path)
	if err != nil {
		return n, err
	}
	if err := json.Unmarshal(b, &n); err != nil {
		return n, fmt.Errorf("read network definition %s (remove the file if it is damaged): %w", path, err)
	}
	n.Default = n.Name == models.DefaultNetwork
	return n, nil
}

// save writes n's definition and CNI list atomically.
func (m *Manager) save(n models.Network) error {
	n.Endpoints = nil
	b, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return fmt.Errorf("encode network %s: %w", n.Name, err)
	}
	list, err := m.conflist(n)
	if err != nil {
		return err
	}
	if err := writeDef(m.conflistPath(n.Name), list); err != nil {
		return err
	}
	return writeDef(m.defPath(n.Name), append(b, '\n'))
}

// defaultNetwork is the definition of budgie0 on bridge and subnet (empty:
// the built-in ones).
func defaultNetwork(bridge, subnet string) (models.Network, error) {
	n := models.Network{Name: models.DefaultNetwork, Bridge: DefaultBridge, Subnet: DefaultSubnet,
		Gateway: DefaultGateway, Default: true, Created: time.Now().UTC()}
	if bridge != "" {
		if len(bridge) > 15 || !strings.HasPrefix(bridge, BridgePrefix) {
			return n, fmt.Errorf("default bridge %q: want a name of at most 15 characters starting with %q: %w",
				bridge, BridgePrefix, errdefs.ErrInvalid)
		}
		n.Bridge = bridge
	}
	if subnet != "" {
		p, err := ParseSubnet(subnet)
		if err != nil {
			return n, err
		}
		gw, err := gatewayFor(p, "")
		if err != nil {
			return n, err
		}
		n.Subnet, n.Gateway = p.String(), gw.String()
	}
	return n, nil
}

// writeDef replaces a definition file atomically, creating its directory.
func writeDef(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	return fsutil.WriteFile(path, data, 0o644)
}
