package bundle

import (
	"github.com/budgie-sh/budgie/engine/runtime"

	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

var update = flag.Bool("update", false, "rewrite the expected errors of testdata/bundles/bad-*.bun")

const bundlesDir = "../../testdata/bundles"

// TestExampleBundles parses every example bundle: good ones must parse, and
// each bad-*.bun must fail with exactly the problems in its bad-*.err file,
// which docs/bundle.md quotes.
func TestExampleBundles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(bundlesDir, "*.bun"))
	if err != nil || len(files) < 6 {
		t.Fatalf("found %d example bundles (%v), want at least 6", len(files), err)
	}
	docs, err := os.ReadFile("../../docs/bundle.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			if !strings.HasPrefix(name, "bad-") {
				if _, err := ParseFile(file, ParseOptions{}); err != nil {
					t.Fatalf("ParseFile: %v", err)
				}
				return
			}
			checkBadBundle(t, file, string(docs))
		})
	}
}

// checkBadBundle parses file as a user running budgie in its directory would
// see it, and compares the error with the .err file.
func checkBadBundle(t *testing.T, file, docs string) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse(filepath.Base(file), data, ParseOptions{Dir: filepath.Dir(file)})
	if !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("error %v, want ErrInvalid", err)
	}
	golden := strings.TrimSuffix(file, ".bun") + ".err"
	if *update {
		if err := os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, rerr := os.ReadFile(golden)
	if rerr != nil {
		t.Fatalf("%v (run go test -update to create it)", rerr)
	}
	if got := err.Error() + "\n"; got != string(want) {
		t.Errorf("error\n%s\nwant (%s)\n%s", got, golden, want)
	}
	if !strings.Contains(docs, string(want)) {
		t.Errorf("docs/bundle.md does not quote the errors of %s", filepath.Base(file))
	}
}

// TestDemoBundlesRunToday checks that the demo bundles use only fields that
// run today, and that full.bun shows every field.
func TestDemoBundlesRunToday(t *testing.T) {
	for _, name := range []string{"web.bun", "worker.bun", "stack.bun"} {
		b, err := ParseFile(filepath.Join(bundlesDir, name), ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range b.Containers {
			if err := runtime.CheckSupported(c); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			if c.Image != "localhost/budgie-demo:latest" {
				t.Errorf("%s: container %s uses image %s; the demo only has localhost/budgie-demo:latest", name, c.Name, c.Image)
			}
		}
	}
	b, err := ParseFile(filepath.Join(bundlesDir, "full.bun"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := reflect.ValueOf(b.Containers[0])
	for i := 0; i < spec.NumField(); i++ {
		if spec.Field(i).IsZero() {
			t.Errorf("full.bun does not set %s", spec.Type().Field(i).Name)
		}
	}
	res := reflect.ValueOf(b.Containers[0].Resources)
	for i := 0; i < res.NumField(); i++ {
		if res.Field(i).IsZero() {
			t.Errorf("full.bun does not set resources.%s", res.Type().Field(i).Name)
		}
	}
}
