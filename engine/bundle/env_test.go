package bundle

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseEnvFile(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
		wantErr    string
	}{
		{"plain", "A=1\nB=two words\n", []string{"A=1", "B=two words"}, ""},
		{"comments blanks export", "# c\n\n  export A=1\n\t# indented\nexport  B = 2 \n", []string{"A=1", "B=2"}, ""},
		{"quotes", "A='x # y'\nB=\"line\\nnext \\\"q\\\"\"\nC=\"\" # empty\nD='$HOME'\n",
			[]string{"A=x # y", "B=line\nnext \"q\"", "C=", "D=$HOME"}, ""},
		{"inline comment", "A=value # note\nB=a#b\n", []string{"A=value", "B=a#b"}, ""},
		{"crlf", "A=1\r\nB=2\r\n", []string{"A=1", "B=2"}, ""},
		{"empty value and equals", "A=\nB=x=y\n", []string{"A=", "B=x=y"}, ""},
		{"last value wins in place", "A=1\nB=2\nA=3\n", []string{"A=3", "B=2"}, ""},
		{"empty file", "", nil, ""},
		{"errors name their lines", "A=1\n\nnot a pair\n  =x\nB='open\nC=\"x\" y\n",
			nil, "e.env:3:1: \"not a pair\" has no = (hint: write KEY=VALUE)\n" +
				"e.env:4:3: invalid variable name \"\"\n" +
				"e.env:5:1: B: unterminated quote\n" +
				"e.env:6:1: C: unexpected \"y\" after the closing quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "e.env", tt.text)
			t.Chdir(dir)
			got, err := ParseEnvFile("e.env")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error\n%v\nwant\n%s", err, tt.wantErr)
				}
				if !errors.Is(err, errdefs.ErrInvalid) {
					t.Errorf("error does not match ErrInvalid")
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseEnvFile = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseEnvFileUnreadable(t *testing.T) {
	dir := t.TempDir()
	if _, err := ParseEnvFile(filepath.Join(dir, "none.env")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("missing file: %v, want ErrNotFound", err)
	}
	if _, err := ParseEnvFile(dir); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("directory: %v, want ErrInvalid", err)
	}
	big := writeFile(t, dir, "big.env", "A="+string(make([]byte, maxEnvFile)))
	if _, err := ParseEnvFile(big); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("file over 1 MiB: %v, want ErrInvalid", err)
	}
}

// TestEnvPrecedence checks that env_file entries come first, later files
// override earlier ones, and the bundle's env wins, each key keeping the
// place where it first appeared.
func TestEnvPrecedence(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "base.env", "A=base\nB=base\nC=base\n")
	writeFile(t, filepath.Join(dir), "local.env", "B=local\nD=local\n")
	tests := []struct {
		name, src string
		want      []string
	}{
		{"one file", "env_file: base.env\n", []string{"A=base", "B=base", "C=base"}},
		{"bundle env wins", "env: {C: bundle, E: bundle}\nenv_file: base.env\n", []string{"A=base", "B=base", "C=bundle", "E=bundle"}},
		{"later file wins", "env_file: [base.env, local.env]\n", []string{"A=base", "B=local", "C=base", "D=local"}},
		{"all together", "env_file: [base.env, local.env]\nenv: [D=bundle, A=bundle, Z=bundle]\n",
			[]string{"A=bundle", "B=local", "C=base", "D=bundle", "Z=bundle"}},
		{"absolute path", "env_file: " + filepath.Join(dir, "local.env") + "\n", []string{"B=local", "D=local"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Parse("t.bun", []byte(header+tt.src), ParseOptions{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if got := b.Containers[0].Env; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("env %q, want %q", got, tt.want)
			}
		})
	}
}
