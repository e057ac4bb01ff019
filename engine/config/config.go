// Package config holds Budgie's configuration: the defaults, budgie.yaml
// (searched in ./, ~/.budgie, ~/.config/budgie and /etc/budgie, or named with
// --config), and BUDGIE_<KEY> environment overrides, with the source of every
// effective value.
package config

import "time"

// Config is Budgie's effective configuration. Its yaml names are the keys
// users write in budgie.yaml and, upper-cased with dots as underscores and a
// BUDGIE_ prefix, the environment variables that override them.
type Config struct {
	// Containerd says which containerd to talk to.
	Containerd Containerd `yaml:"containerd"`
	// DataDir holds volumes, logs, the managed containerd and keeper state.
	DataDir string `yaml:"data_dir"`
	// NodeName names this node to peers; empty means the host name.
	NodeName string `yaml:"node_name"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// Registries configures image registries.
	Registries Registries `yaml:"registries"`
	// Logs configures container log files.
	Logs Logs `yaml:"logs"`
	// UI configures nest.
	UI UI `yaml:"ui"`
	// Discovery configures how the keeper announces and finds containers on the LAN.
	Discovery Discovery `yaml:"discovery"`
	// Networks configures the default network (see Networks).
	Networks Networks `yaml:"networks"`
	// Web configures the dashboard the keeper serves.
	Web Web `yaml:"web"`
	// Keys remaps nest's key bindings: action name → keys.
	Keys map[string][]string `yaml:"keys"`
}

// Web configures the web dashboard the keeper serves (see docs/web.md).
type Web struct {
	// Enabled turns the dashboard on; false means the keeper serves none.
	Enabled bool `yaml:"enabled"`
	// Listen is the dashboard's host:port. A loopback address is served
	// over plain HTTP unless TLS is "on"; any other address always over
	// TLS, with the node's own certificate.
	Listen string `yaml:"listen"`
	// TLS is auto (TLS beyond loopback), on (always) or off (never; refused
	// with an address beyond loopback).
	TLS string `yaml:"tls"`
}

// DefaultWebListen is the dashboard's default address: loopback only.
const DefaultWebListen = "127.0.0.1:18734"

// Containerd says which containerd to talk to.
type Containerd struct {
	// Address is the socket of an external containerd tried first.
	Address string `yaml:"address"`
	// Namespace is the containerd namespace Budgie works in.
	Namespace string `yaml:"namespace"`
}

// Registries configures image registries.
type Registries struct {
	// Insecure lists registry hosts ("host:port") reached over plain HTTP.
	// Loopback registries always are.
	Insecure []string `yaml:"insecure"`
}

// Logs configures container log files (Docker's json-file format).
type Logs struct {
	// MaxSize is the size in bytes at which a log file is rotated.
	MaxSize int64 `yaml:"max_size"`
	// MaxFiles is how many files (current plus rotated) are kept.
	MaxFiles int `yaml:"max_files"`
}

// UI configures nest.
type UI struct {
	// Theme is dark, light or auto.
	Theme string `yaml:"theme"`
	// Mouse turns mouse support on.
	Mouse bool `yaml:"mouse"`
}

// Discovery configures mDNS discovery in the keeper.
type Discovery struct {
	// Interfaces names the network interfaces to announce and browse on;
	// empty means every up, multicast-capable, non-loopback interface.
	Interfaces []string `yaml:"interfaces"`
	// SyncPort is the replication port announced to peers.
	SyncPort int `yaml:"sync_port"`
	// Interval is the first query interval; later ones back off.
	Interval time.Duration `yaml:"interval"`
	// Expiry is ignored: records live for their TTL (kept so that older
	// files load).
	Expiry time.Duration `yaml:"expiry"`
}

// Networks configures the default network, budgie0, when it is first made.
type Networks struct {
	// DefaultBridge is budgie0's Linux bridge.
	DefaultBridge string `yaml:"default_bridge"`
	// DefaultSubnet is budgie0's subnet.
	DefaultSubnet string `yaml:"default_subnet"`
}

// Default returns the built-in defaults.
func Default() *Config {
	return &Config{
		Containerd: Containerd{Address: "/run/containerd/containerd.sock", Namespace: "budgie"},
		DataDir:    "/var/lib/budgie",
		LogLevel:   "info",
		Logs:       Logs{MaxSize: 10 << 20, MaxFiles: 3},
		UI:         UI{Theme: "auto"},
		Discovery:  Discovery{SyncPort: 18733, Interval: time.Second, Expiry: 2500 * time.Millisecond},
		Networks:   Networks{DefaultBridge: "budgie0", DefaultSubnet: "172.20.0.0/16"},
		Web:        Web{Enabled: true, Listen: DefaultWebListen, TLS: "auto"},
	}
}
