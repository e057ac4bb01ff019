package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

func TestEnvName(t *testing.T) {
	for key, want := range map[string]string{
		"containerd.address": "BUDGIE_CONTAINERD_ADDRESS",
		"data_dir":           "BUDGIE_DATA_DIR",
		"logs.max_size":      "BUDGIE_LOGS_MAX_SIZE",
		"keys":               "BUDGIE_KEYS",
	} {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestLoadEnvOverrides(t *testing.T) {
	tests := []struct {
		env  string
		key  string
		want any
	}{
		{"BUDGIE_CONTAINERD_ADDRESS=/run/other.sock", "containerd.address", "/run/other.sock"},
		{"BUDGIE_CONTAINERD_NAMESPACE=ci", "containerd.namespace", "ci"},
		{"BUDGIE_DATA_DIR=/srv/budgie", "data_dir", "/srv/budgie"},
		{"BUDGIE_NODE_NAME=kitchen", "node_name", "kitchen"},
		{"BUDGIE_LOG_LEVEL=debug", "log_level", "debug"},
		{"BUDGIE_REGISTRIES_INSECURE=a:5000, b:5000,", "registries.insecure", []string{"a:5000", "b:5000"}},
		{"BUDGIE_LOGS_MAX_SIZE=10MiB", "logs.max_size", int64(10 << 20)},
		{"BUDGIE_LOGS_MAX_SIZE=512k", "logs.max_size", int64(512 << 10)},
		{"BUDGIE_LOGS_MAX_SIZE=1.5GiB", "logs.max_size", int64(3 << 29)},
		{"BUDGIE_LOGS_MAX_SIZE=2MB", "logs.max_size", int64(2 << 20)},
		{"BUDGIE_LOGS_MAX_SIZE=4096", "logs.max_size", int64(4096)},
		{"BUDGIE_LOGS_MAX_FILES=7", "logs.max_files", 7},
		{"BUDGIE_UI_THEME=dark", "ui.theme", "dark"},
		{"BUDGIE_UI_MOUSE=true", "ui.mouse", true},
		{"BUDGIE_UI_MOUSE=1", "ui.mouse", true},
		{"BUDGIE_DISCOVERY_INTERFACES=lab0,eth1", "discovery.interfaces", []string{"lab0", "eth1"}},
		{"BUDGIE_DISCOVERY_EXPIRY=1.5s", "discovery.expiry", 1500 * time.Millisecond},
		{"BUDGIE_UI_MOUSE=on", "ui.mouse", true},
		{"BUDGIE_KEYS={quit: [q, ctrl+c], logs: l}", "keys", map[string][]string{"quit": {"q", "ctrl+c"}, "logs": {"l"}}},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			root := t.TempDir()
			// The file sets every key the environment overrides.
			writeFile(t, root, "work/budgie.yaml", "node_name: file\nlog_level: warn\nui:\n  mouse: false\nlogs:\n  max_size: 1KiB\n")
			opts := testOptions(root)
			opts.Env = []string{"PATH=/bin", tt.env}
			l, err := Load(opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.Get(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v, want %#v", tt.key, got, tt.want)
			}
			name, _, _ := strings.Cut(tt.env, "=")
			if src := l.Sources[tt.key]; src != (Source{Kind: SourceEnv, Detail: name}) {
				t.Errorf("source = %v, want env %s", src, name)
			}
		})
	}
}

func TestLoadEnvErrors(t *testing.T) {
	tests := []struct {
		env, want string
	}{
		{"BUDGIE_UI_MOUSE=maybe", `BUDGIE_UI_MOUSE: want true or false, got "maybe"`},
		{"BUDGIE_LOGS_MAX_FILES=3.5", `BUDGIE_LOGS_MAX_FILES: want a whole number, got "3.5"`},
		{"BUDGIE_LOGS_MAX_SIZE=ten", `BUDGIE_LOGS_MAX_SIZE: want a size such as 10MiB, got "ten" (invalid size "ten")`},
		{"BUDGIE_LOGS_MAX_SIZE=10QB", `BUDGIE_LOGS_MAX_SIZE: want a size such as 10MiB, got "10QB" (unknown unit "QB"`},
		{"BUDGIE_LOGS_MAX_SIZE=99999999TiB", `BUDGIE_LOGS_MAX_SIZE: want a size such as 10MiB, got "99999999TiB" (size "99999999TiB" is too large)`},
		{"BUDGIE_KEYS=quit", `BUDGIE_KEYS: want a mapping of action names to a key or a list of keys, got "quit"`},
		{"BUDGIE_KEYS={quit: [", `BUDGIE_KEYS: want a mapping of action names to a key or a list of keys, got "{quit: [" (write it as`},
		{"BUDGIE_LOG_LEVEL=loud", `BUDGIE_LOG_LEVEL: "loud" is not one of debug, info, warn, error`},
		{"BUDGIE_UI_THEME=neon", `BUDGIE_UI_THEME: "neon" is not one of dark, light, auto`},
		{"BUDGIE_DATA_DIR=data", `BUDGIE_DATA_DIR: "data" is not an absolute path`},
		{"BUDGIE_CONTAINERD_NAMESPACE=a/b", `BUDGIE_CONTAINERD_NAMESPACE: "a/b" is not a containerd namespace`},
		{"BUDGIE_LOGS_MAX_FILES=0", `BUDGIE_LOGS_MAX_FILES: must be at least 1, got 0`},
		{"BUDGIE_REGISTRIES_INSECURE=https://x", `BUDGIE_REGISTRIES_INSECURE: "https://x" is not a host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			opts := testOptions(t.TempDir())
			opts.Env = []string{tt.env}
			_, err := Load(opts)
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %q\nwant prefix %q", err, tt.want)
			}
		})
	}
}

func TestLoadEnvEmptyAndUnknown(t *testing.T) {
	opts := testOptions(t.TempDir())
	opts.Env = []string{
		"BUDGIE_DATA_DIR=",                 // empty counts as unset
		"BUDGIE_CONTAINERD_ADRESS=/x.sock", // misspelt: warned about
		"BUDGIE_SOMETHING_ELSE=1",          // unrelated: ignored
		"BUDGIE_NODE_NAME=first",           // overridden by the later line
		"BUDGIE_NODE_NAME=second",
		"NOT_BUDGIE_DATA_DIR=/nope",
	}
	l, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	if l.DataDir != Default().DataDir || l.Sources["data_dir"].Kind != SourceDefault {
		t.Errorf("data_dir = %q from %v, want the default", l.DataDir, l.Sources["data_dir"])
	}
	if l.NodeName != "second" {
		t.Errorf("node_name = %q, want the last line's", l.NodeName)
	}
	want := []string{"BUDGIE_CONTAINERD_ADRESS is not a configuration variable (did you mean BUDGIE_CONTAINERD_ADDRESS?)"}
	if !reflect.DeepEqual(l.Warnings, want) {
		t.Errorf("warnings = %q, want %q", l.Warnings, want)
	}
}

func TestLoadPrecedence(t *testing.T) {
	root := t.TempDir()
	path := writeFile(t, root, "work/budgie.yaml", "log_level: warn\nnode_name: file\ndata_dir: /file\n")
	opts := testOptions(root)
	opts.Env = []string{"BUDGIE_LOG_LEVEL=error", "BUDGIE_NODE_NAME=env"}
	opts.Flags = []Flag{{Key: "log_level", Name: "--log-level", Value: "debug"}}
	l, err := Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, value string
		src        Source
	}{
		{"log_level", "debug", Source{SourceFlag, "--log-level"}},
		{"node_name", "env", Source{SourceEnv, "BUDGIE_NODE_NAME"}},
		{"data_dir", "/file", Source{SourceFile, path + ":3"}},
		{"ui.theme", "auto", Source{Kind: SourceDefault}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if v, _ := l.Format(tt.key); v != tt.value || l.Sources[tt.key] != tt.src {
				t.Errorf("%s = %q from %v, want %q from %v", tt.key, v, l.Sources[tt.key], tt.value, tt.src)
			}
		})
	}
	opts.Flags = []Flag{{Key: "log_level", Name: "--log-level", Value: "chatty"}}
	if _, err := Load(opts); err == nil || !strings.HasPrefix(err.Error(), `flag --log-level: "chatty" is not one of`) {
		t.Errorf("bad flag: err = %v", err)
	}
}

func TestSourceString(t *testing.T) {
	for src, want := range map[Source]string{
		{Kind: SourceDefault}:                     "default",
		{SourceFile, "/etc/budgie/budgie.yaml:4"}: "file /etc/budgie/budgie.yaml:4",
		{SourceEnv, "BUDGIE_UI_MOUSE"}:            "env BUDGIE_UI_MOUSE",
		{SourceFlag, "--log-level"}:               "flag --log-level",
	} {
		if got := src.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
