package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// FuzzParse checks that no input makes Parse panic, and that what it returns
// keeps its promises: a bundle of valid containers, or an *Error of
// positioned problems that matches ErrInvalid.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(bundlesDir, "*.bun"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		"", "~", "[]", "a", "name: a\nimage: b\n", "containers: [{name: a, image: b}]",
		"x: &a [*a]", "<<: [*a]", "a: &x 1\n<<: *x", "name: a\nimage: b\nenv: {A: [1]}\n",
		"name: a\nimage: b\nports: [\"[::1]:1:1/udp\"]\nvolumes: [{type: bind}]\n",
		"name: a\nimage: b\nrestart_policy: on-failure:\nhealth: {cmd: ''}\n",
		"name: a\nimage: b\nenv_file: /dev/null\n", "---\n---\n", "name: a\n\timage: b\n",
	} {
		f.Add([]byte(seed))
	}
	dir, err := filepath.Abs(bundlesDir)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse("fuzz.bun", data, ParseOptions{Dir: dir})
		if err != nil {
			checkFuzzError(t, err)
			return
		}
		if len(b.Containers) == 0 {
			t.Fatal("a valid bundle without containers")
		}
		for i, c := range b.Containers {
			if c.Name == "" || c.Image == "" {
				t.Fatalf("container %d has no name or image: %+v", i, c)
			}
			if line, _ := b.Position(i, ""); line < 1 {
				t.Fatalf("container %d has no position", i)
			}
			b.Position(i, "resources.memory")
		}
	})
}

func checkFuzzError(t *testing.T, err error) {
	var berr *Error
	if !errors.As(err, &berr) || !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("error %T %v, want an *Error matching ErrInvalid", err, err)
	}
	if len(berr.Problems) == 0 {
		t.Fatal("an *Error without problems")
	}
	for _, p := range berr.Problems {
		if p.Message == "" || p.File == "" {
			t.Fatalf("problem without message or file: %+v", p)
		}
		if p.File == "fuzz.bun" && p.Line < 1 && !strings.HasPrefix(p.Message, "invalid YAML") {
			t.Fatalf("problem without a line: %+v", p)
		}
	}
}
