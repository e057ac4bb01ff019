package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// writeFile writes content to dir/rel, creating directories, and returns the path.
func writeFile(t *testing.T, dir, rel, content string) string {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// testOptions points Load at temp directories and an empty environment;
// /etc is replaced by root/etc.
func testOptions(root string) LoadOptions {
	home, work := filepath.Join(root, "home"), filepath.Join(root, "work")
	paths := SearchPaths(home, work)
	paths[len(paths)-1] = filepath.Join(root, "etc", "budgie", "budgie.yaml")
	return LoadOptions{Env: []string{}, Home: home, WorkDir: work, SearchPaths: paths}
}

func TestSearchPaths(t *testing.T) {
	got := SearchPaths("/h", "/w")
	want := []string{"/w/budgie.yaml", "/h/.budgie/budgie.yaml", "/h/.config/budgie/budgie.yaml", "/etc/budgie/budgie.yaml"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SearchPaths = %q, want %q", got, want)
	}
	if got := SearchPaths("", ""); !reflect.DeepEqual(got, []string{"/etc/budgie/budgie.yaml"}) {
		t.Fatalf("SearchPaths without home and workdir = %q", got)
	}
}

func TestLoadSearchOrder(t *testing.T) {
	files := []string{"work/budgie.yaml", "home/.budgie/budgie.yaml", "home/.config/budgie/budgie.yaml", "etc/budgie/budgie.yaml"}
	tests := []struct {
		name    string
		present []int // indexes into files
		want    int   // index of the file used; -1 for none
	}{
		{"none", nil, -1},
		{"etc only", []int{3}, 3},
		{"config dir beats etc", []int{2, 3}, 2},
		{"dot dir beats config dir", []int{1, 2, 3}, 1},
		{"work dir beats all", []int{0, 1, 2, 3}, 0},
		{"work dir and etc", []int{0, 3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, i := range tt.present {
				writeFile(t, root, files[i], "node_name: n"+string(rune('0'+i))+"\n")
			}
			opts := testOptions(root)
			l, err := Load(opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l.Searched, opts.SearchPaths) {
				t.Errorf("Searched = %q, want %q", l.Searched, opts.SearchPaths)
			}
			if tt.want < 0 {
				if l.File != "" || l.NodeName != "" {
					t.Fatalf("File = %q, NodeName = %q; want no file", l.File, l.NodeName)
				}
				return
			}
			if want := filepath.Join(root, files[tt.want]); l.File != want {
				t.Errorf("File = %q, want %q", l.File, want)
			}
			if want := "n" + string(rune('0'+tt.want)); l.NodeName != want {
				t.Errorf("NodeName = %q, want %q", l.NodeName, want)
			}
		})
	}
}

func TestLoadConfigFlagOverridesSearch(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "work/budgie.yaml", "node_name: searched\n")
	explicit := writeFile(t, root, "elsewhere.yaml", "node_name: explicit\n")
	opts := testOptions(root)
	opts.File = explicit
	l, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	if l.File != explicit || l.NodeName != "explicit" || l.Searched != nil {
		t.Fatalf("File = %q, NodeName = %q, Searched = %q; want the --config file only", l.File, l.NodeName, l.Searched)
	}
	src := l.Sources["node_name"]
	if src != (Source{Kind: SourceFile, Detail: explicit + ":1"}) {
		t.Errorf("source = %v", src)
	}

	opts.File = filepath.Join(root, "missing.yaml")
	_, err = Load(opts)
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "missing.yaml does not exist") {
		t.Fatalf("missing --config: err = %v, want ErrInvalid naming the file", err)
	}
	opts.File = root
	if _, err = Load(opts); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("directory --config: err = %v", err)
	}
}

func TestLoadMergesOverDefaults(t *testing.T) {
	root := t.TempDir()
	path := writeFile(t, root, "work/budgie.yaml", `# comment
containerd:
  namespace: lab
logs:
  max_size: 1MiB
ui:
registries:
  insecure: [reg.lan:5000, 10.0.0.2:5000]
keys:
  quit: [q, ctrl+c]
  logs: l
`)
	l, err := Load(testOptions(root))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Containerd.Namespace = "lab"
	want.Logs.MaxSize = 1 << 20
	want.Registries.Insecure = []string{"reg.lan:5000", "10.0.0.2:5000"}
	want.Keys = map[string][]string{"quit": {"q", "ctrl+c"}, "logs": {"l"}}
	if !reflect.DeepEqual(l.Config, want) {
		t.Fatalf("config = %+v\nwant     %+v", l.Config, want)
	}
	wantSources := map[string]Source{
		"containerd.address":      {Kind: SourceDefault},
		"containerd.namespace":    {SourceFile, path + ":3"},
		"data_dir":                {Kind: SourceDefault},
		"node_name":               {Kind: SourceDefault},
		"log_level":               {Kind: SourceDefault},
		"registries.insecure":     {SourceFile, path + ":8"},
		"logs.max_size":           {SourceFile, path + ":5"},
		"logs.max_files":          {Kind: SourceDefault},
		"ui.theme":                {Kind: SourceDefault},
		"ui.mouse":                {Kind: SourceDefault},
		"discovery.interfaces":    {Kind: SourceDefault},
		"discovery.sync_port":     {Kind: SourceDefault},
		"discovery.interval":      {Kind: SourceDefault},
		"discovery.expiry":        {Kind: SourceDefault},
		"networks.default_bridge": {Kind: SourceDefault},
		"networks.default_subnet": {Kind: SourceDefault},
		"web.enabled":             {Kind: SourceDefault},
		"web.listen":              {Kind: SourceDefault},
		"web.tls":                 {Kind: SourceDefault},
		"keys":                    {SourceFile, path + ":9"},
		"keys.quit":               {SourceFile, path + ":10"},
		"keys.logs":               {SourceFile, path + ":11"},
	}
	if !reflect.DeepEqual(l.Sources, wantSources) {
		t.Fatalf("sources = %v\nwant      %v", l.Sources, wantSources)
	}
}

func TestLoadAcceptedFiles(t *testing.T) {
	tests := []struct {
		name, yaml string
		check      func(c *Config) bool
	}{
		{"empty file", "", func(c *Config) bool { return reflect.DeepEqual(c, Default()) }},
		{"only comments", "# nothing\n", func(c *Config) bool { return reflect.DeepEqual(c, Default()) }},
		{"empty sections and values", "containerd:\nlogs:\n  max_files:\nnode_name: ~\n", func(c *Config) bool { return reflect.DeepEqual(c, Default()) }},
		{"size in bytes", "logs:\n  max_size: 2048\n", func(c *Config) bool { return c.Logs.MaxSize == 2048 }},
		{"MB is 1024 KiB, as in bundles and docker", "logs:\n  max_size: 5MB\n", func(c *Config) bool { return c.Logs.MaxSize == 5<<20 }},
		{"bool yes", "ui:\n  mouse: yes\n", func(c *Config) bool { return c.UI.Mouse }},
		{"keys as one string", "keys:\n  quit: q\n", func(c *Config) bool { return reflect.DeepEqual(c.Keys["quit"], []string{"q"}) }},
		{"explicit empty address", "containerd:\n  address: \"\"\n", func(c *Config) bool { return c.Containerd.Address == "" }},
		{"alias", "containerd:\n  namespace: &ns lab\nnode_name: *ns\n", func(c *Config) bool { return c.NodeName == "lab" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, root, "work/budgie.yaml", tt.yaml)
			l, err := Load(testOptions(root))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(l.Config) {
				t.Fatalf("unexpected config %+v", l.Config)
			}
		})
	}
}

// TestLoadFileErrors covers unknown keys, wrong types and invalid values:
// each error names file:line and the key.
func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings after "<path>:"
	}{
		{"unknown top-level key", "node_name: a\ncontanerd:\n  address: /x\n",
			[]string{`:2: unknown key "contanerd" (did you mean "containerd"?)`}},
		{"unknown nested key", "containerd:\n  adress: /x\n",
			[]string{`:2: unknown key "containerd.adress" (did you mean "containerd.address"?)`}},
		{"key in the wrong section", "max_size: 1MiB\n",
			[]string{`:1: unknown key "max_size" (did you mean "logs.max_size"?)`}},
		{"unknown key without a close one", "ui:\n  colours: many\n",
			[]string{`:2: unknown key "ui.colours" (known keys: ui.theme, ui.mouse)`}},
		{"case typo", "Data_Dir: /x\n", []string{`:1: unknown key "Data_Dir" (did you mean "data_dir"?)`}},
		{"all problems reported", "nod_name: a\nui:\n  mouse: maybe\n",
			[]string{`:1: unknown key "nod_name" (did you mean "node_name"?)`, `:3: ui.mouse: want true or false, got "maybe"`}},
		{"bool", "ui:\n  mouse: sometimes\n", []string{`:2: ui.mouse: want true or false, got "sometimes"`}},
		{"int", "logs:\n  max_files: three\n", []string{`:2: logs.max_files: want a whole number, got "three"`}},
		{"size", "logs:\n  max_size: 10XB\n", []string{`:2: logs.max_size: want a size such as 10MiB, got "10XB" (unknown unit "XB"`}},
		{"string given a list", "data_dir: [a, b]\n", []string{`:1: data_dir: want a string, got a list`}},
		{"section given a scalar", "containerd: /run/x.sock\n", []string{`:1: containerd: want a mapping of keys, got "/run/x.sock"`}},
		{"list given a scalar", "registries:\n  insecure: reg:5000\n", []string{`:2: registries.insecure: want a list of strings, got "reg:5000"`}},
		{"list of mappings", "registries:\n  insecure:\n    - a: b\n", []string{`:3: registries.insecure: want a string in the list, got a mapping`}},
		{"keys not a mapping", "keys: [q]\n", []string{`:1: keys: want a mapping of action names to a key or a list of keys, got a list`}},
		{"keys action nested", "keys:\n  quit: {a: b}\n", []string{`:2: keys: action "quit": want a key or a list of keys, got a mapping`}},
		{"top level a list", "- a\n", []string{`:1: the top level: want a mapping of keys, got a list`}},
		{"key set twice", "node_name: a\nnode_name: b\n", []string{`:2: node_name: set twice (first on line 1)`}},
		{"syntax", "containerd:\n  address: [\n", []string{`: line 2: did not find expected node content (budgie.yaml must be YAML)`}},
		{"log level", "log_level: verbose\n", []string{`:1: log_level: "verbose" is not one of debug, info, warn, error`}},
		{"theme", "ui:\n  theme: pink\n", []string{`:2: ui.theme: "pink" is not one of dark, light, auto`}},
		{"empty namespace", "containerd:\n  namespace: \"\"\n", []string{`:2: containerd.namespace: must not be empty`}},
		{"bad namespace", "containerd:\n  namespace: a b\n", []string{`:2: containerd.namespace: "a b" is not a containerd namespace`}},
		{"relative data dir", "data_dir: var/budgie\n", []string{`:1: data_dir: "var/budgie" is not an absolute path`}},
		{"relative address", "containerd:\n  address: containerd.sock\n", []string{`:2: containerd.address: "containerd.sock" is not a socket path`}},
		{"max files zero", "logs:\n  max_files: 0\n", []string{`:2: logs.max_files: must be at least 1, got 0`}},
		{"max files negative", "logs:\n  max_files: -2\n", []string{`:2: logs.max_files: must be at least 1, got -2`}},
		{"max size zero", "logs:\n  max_size: 0\n", []string{`:2: logs.max_size: must be at least 1, got 0`}},
		{"insecure with scheme", "registries:\n  insecure: [http://reg:5000]\n", []string{`:2: registries.insecure: "http://reg:5000" is not a host:port`}},
		{"keys empty list", "keys:\n  quit: []\n", []string{`:1: keys: action "quit" has no keys`}},
		{"duration", "discovery:\n  interval: soon\n", []string{`:2: discovery.interval: want a duration such as 1s or 500ms, got "soon"`}},
		{"interval too short", "discovery:\n  interval: 10ms\n", []string{`:2: discovery.interval: must be at least 100ms, got 10ms`}},
		{"sync port range", "discovery:\n  sync_port: 70000\n", []string{`:2: discovery.sync_port: must be a port between 1 and 65535, got 70000`}},
		{"web listen not host:port", "web:\n  listen: 18734\n", []string{`:2: web.listen: "18734" is not host:port`}},
		{"web listen host name", "web:\n  listen: box.lan:18734\n", []string{`:2: web.listen: "box.lan:18734": the host must be an IP address or localhost`}},
		{"web listen port", "web:\n  listen: 127.0.0.1:0\n", []string{`:2: web.listen: "127.0.0.1:0": the port must be between 1 and 65535`}},
		{"web tls value", "web:\n  tls: maybe\n", []string{`:2: web.tls: "maybe" is not one of auto, on, off`}},
		{"web plain beyond loopback", "web:\n  listen: 0.0.0.0:18734\n  tls: off\n", []string{`:3: web.tls: off is refused with web.listen 0.0.0.0:18734, beyond loopback`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			path := writeFile(t, root, "work/budgie.yaml", tt.yaml)
			_, err := Load(testOptions(root))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], path+w) {
					t.Errorf("problem %d = %q\nwant prefix   %q", i, lines[i], path+w)
				}
			}
		})
	}
}

func TestLoadUnreadableSearchEntry(t *testing.T) {
	root := t.TempDir()
	// ~/.budgie is a file, so ~/.budgie/budgie.yaml cannot exist: skip it.
	writeFile(t, root, "home/.budgie", "not a directory")
	p := writeFile(t, root, "etc/budgie/budgie.yaml", "node_name: etc\n")
	l, err := Load(testOptions(root))
	if err != nil || l.File != p {
		t.Fatalf("Load = %v, %v; want %s", l, err, p)
	}
	// A directory named budgie.yaml is an error, not skipped.
	if err := os.MkdirAll(filepath.Join(root, "work", "budgie.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(testOptions(root)); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("directory in the search path: err = %v, want ErrInvalid", err)
	}
}

func TestLoadReportsEveryLayer(t *testing.T) {
	root := t.TempDir()
	path := writeFile(t, root, "work/budgie.yaml", "ui:\n  mose: true\nlog_level: verbose\n")
	opts := testOptions(root)
	opts.Env = []string{"BUDGIE_LOGS_MAX_FILES=many", "BUDGIE_DATA_DIR=rel"}
	opts.Flags = []Flag{{Key: "ui.theme", Name: "--theme", Value: "pink"}}
	_, err := Load(opts)
	// Parse errors by layer, then invalid values in key order.
	want := []string{
		path + `:2: unknown key "ui.mose" (did you mean "ui.mouse"?)`,
		`BUDGIE_LOGS_MAX_FILES: want a whole number, got "many"`,
		`BUDGIE_DATA_DIR: "rel" is not an absolute path (write it from /, e.g. /var/lib/budgie)`,
		path + `:3: log_level: "verbose" is not one of debug, info, warn, error`,
		`flag --theme: "pink" is not one of dark, light, auto`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Fatalf("err =\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
	if !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("err does not wrap ErrInvalid")
	}
}
