package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// TestDefaultYAMLRoundTrip checks that the written file loads back to the
// defaults, sets every key from the file, and comments every key.
func TestDefaultYAMLRoundTrip(t *testing.T) {
	root := t.TempDir()
	path := writeFile(t, root, "work/budgie.yaml", string(DefaultYAML()))
	l, err := Load(testOptions(root))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l.Config, Default()) {
		t.Fatalf("default file loads as %+v, want the defaults", l.Config)
	}
	lines := strings.Split(string(DefaultYAML()), "\n")
	for _, key := range Keys() {
		src := l.Sources[key]
		if src.Kind != SourceFile || !strings.HasPrefix(src.Detail, path+":") {
			t.Errorf("%s: source %v, want the file", key, src)
			continue
		}
		var n int
		if _, err := fmt.Sscan(strings.TrimPrefix(src.Detail, path+":"), &n); err != nil {
			t.Fatal(err)
		}
		if above := strings.TrimSpace(lines[n-2]); !strings.HasPrefix(above, "#") {
			t.Errorf("%s (line %d) has no comment above it: %q", key, n, above)
		}
	}
}

func TestWriteDefault(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a", "b", "budgie.yaml")
	if err := WriteDefault(path, false); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
	}
	if got, _ := os.ReadFile(path); string(got) != string(DefaultYAML()) {
		t.Errorf("file does not hold DefaultYAML")
	}

	tests := []struct {
		name    string
		force   bool
		wantErr error
		want    string
	}{
		{"refuses to overwrite", false, errdefs.ErrConflict, "edited\n"},
		{"force overwrites", true, nil, string(DefaultYAML())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte("edited\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			err := WriteDefault(path, tt.force)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("WriteDefault(force=%v) = %v, want %v", tt.force, err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "--force") {
				t.Errorf("error %q does not say how to overwrite", err)
			}
			if got, _ := os.ReadFile(path); string(got) != tt.want {
				t.Errorf("file holds %q", got)
			}
			if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
				t.Errorf("temporary files left behind: %v", entries)
			}
		})
	}
}
