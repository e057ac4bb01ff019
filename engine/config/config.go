// Package config holds Budgie's configuration: the defaults, budgie.yaml
// (searched in ./, ~/.budgie, ~/.config/budgie and /etc/budgie, or named with
// --config), and BUDGIE_<KEY> environment overrides, with the source of every
// effective value.
package config

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
	// Keys remaps nest's key bindings: action name → keys.
	Keys map[string][]string `yaml:"keys"`
}

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

// Default returns the built-in defaults.
func Default() *Config {
	return &Config{
		Containerd: Containerd{Address: "/run/containerd/containerd.sock", Namespace: "budgie"},
		DataDir:    "/var/lib/budgie",
		LogLevel:   "info",
		Logs:       Logs{MaxSize: 10 << 20, MaxFiles: 3},
		UI:         UI{Theme: "auto"},
	}
}
