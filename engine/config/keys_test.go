package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

func TestKeys(t *testing.T) {
	want := []string{
		"containerd.address", "containerd.namespace", "data_dir", "node_name", "log_level",
		"registries.insecure", "logs.max_size", "logs.max_files", "ui.theme", "ui.mouse",
		"discovery.interfaces", "discovery.sync_port", "discovery.interval", "discovery.expiry",
		"networks.default_bridge", "networks.default_subnet", "web.enabled", "web.listen", "web.tls", "keys",
	}
	if got := Keys(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Keys() = %q, want %q", got, want)
	}
}

// sample is a configuration with every key away from its default.
func sample() *Config {
	return &Config{
		Containerd: Containerd{Address: "/run/c.sock", Namespace: "lab"},
		DataDir:    "/srv/budgie",
		NodeName:   "attic",
		LogLevel:   "warn",
		Registries: Registries{Insecure: []string{"a:5000", "b:5000"}},
		Logs:       Logs{MaxSize: 3 << 20, MaxFiles: 5},
		UI:         UI{Theme: "dark", Mouse: true},
		Discovery:  Discovery{Interfaces: []string{"eth0", "wlan0"}, SyncPort: 9000, Interval: 500 * time.Millisecond, Expiry: 2 * time.Second},
		Networks:   Networks{DefaultBridge: "budgie9", DefaultSubnet: "10.9.0.0/16"},
		Web:        Web{Enabled: false, Listen: "0.0.0.0:8443", TLS: "on"},
		Keys:       map[string][]string{"quit": {"q", "ctrl+c"}, "logs": {"l"}, "comma": {","}},
	}
}

func TestGetAndFormatEveryKey(t *testing.T) {
	tests := []struct {
		key  string
		want any
		text string
	}{
		{"containerd.address", "/run/c.sock", "/run/c.sock"},
		{"containerd.namespace", "lab", "lab"},
		{"data_dir", "/srv/budgie", "/srv/budgie"},
		{"node_name", "attic", "attic"},
		{"log_level", "warn", "warn"},
		{"registries.insecure", []string{"a:5000", "b:5000"}, "a:5000,b:5000"},
		{"logs.max_size", int64(3 << 20), "3MiB"},
		{"logs.max_files", 5, "5"},
		{"ui.theme", "dark", "dark"},
		{"ui.mouse", true, "true"},
		{"discovery.interfaces", []string{"eth0", "wlan0"}, "eth0,wlan0"},
		{"discovery.sync_port", 9000, "9000"},
		{"discovery.interval", 500 * time.Millisecond, "500ms"},
		{"discovery.expiry", 2 * time.Second, "2s"},
		{"networks.default_bridge", "budgie9", "budgie9"},
		{"networks.default_subnet", "10.9.0.0/16", "10.9.0.0/16"},
		{"web.enabled", false, "false"},
		{"web.listen", "0.0.0.0:8443", "0.0.0.0:8443"},
		{"web.tls", "on", "on"},
		{"keys", map[string][]string{"quit": {"q", "ctrl+c"}, "logs": {"l"}, "comma": {","}}, "comma: [',']\nlogs: [l]\nquit: [q, ctrl+c]"},
	}
	if len(tests) != len(Keys()) {
		t.Fatalf("table covers %d keys, Keys() has %d", len(tests), len(Keys()))
	}
	c := sample()
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, err := c.Get(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Get = %#v, want %#v", got, tt.want)
			}
			text, err := c.Format(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if text != tt.text {
				t.Errorf("Format = %q, want %q", text, tt.text)
			}
		})
	}
}

func TestGetReturnsCopies(t *testing.T) {
	c := sample()
	list, _ := c.Get("registries.insecure")
	list.([]string)[0] = "changed"
	keys, _ := c.Get("keys")
	keys.(map[string][]string)["quit"][0] = "changed"
	if c.Registries.Insecure[0] != "a:5000" || c.Keys["quit"][0] != "q" {
		t.Fatalf("Get let the caller change the config: %+v", c)
	}
	// Empty lists and maps come back empty, not nil, so JSON shows [] and {}.
	if v, _ := Default().Get("registries.insecure"); v.([]string) == nil {
		t.Error("Get(registries.insecure) = nil")
	}
	if v, _ := Default().Get("keys"); v.(map[string][]string) == nil {
		t.Error("Get(keys) = nil")
	}
}

func TestGetUnknownKey(t *testing.T) {
	tests := []struct{ key, want string }{
		{"containerd.namespce", `unknown configuration key "containerd.namespce" (did you mean "containerd.namespace"?)`},
		{"datadir", `unknown configuration key "datadir" (did you mean "data_dir"?)`},
		{"mouse", `unknown configuration key "mouse" (did you mean "ui.mouse"?)`},
		{"zzz", `unknown configuration key "zzz" (known keys: containerd.address,`},
		{"logs", `"logs" is a section, not a key; its keys are logs.max_size, logs.max_files`},
		{"", `unknown configuration key ""`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			_, err := Default().Get(tt.key)
			if !errors.Is(err, errdefs.ErrInvalid) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Get(%q) err = %v\nwant ErrInvalid starting %q", tt.key, err, tt.want)
			}
			if _, err := Default().Format(tt.key); !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("Format(%q) err = %v, want ErrInvalid", tt.key, err)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	keys := Keys()
	tests := []struct{ name, want string }{
		{"containerd.adress", "containerd.address"},
		{"log-level", "log_level"},
		{"LOG_LEVEL", "log_level"},
		{"ui.thme", "ui.theme"},
		{"x", ""},
		{"registries", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.name, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if d := levenshtein("kitten", "sitting"); d != 3 {
		t.Errorf("levenshtein(kitten, sitting) = %d, want 3", d)
	}
}
