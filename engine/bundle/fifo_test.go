package bundle

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// TestEnvFileFIFO checks that a FIFO is refused instead of blocking the parse.
func TestEnvFileFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe.env")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseEnvFile(fifo); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("FIFO: %v, want ErrInvalid", err)
	}
	_, err := Parse("f.bun", []byte(header+"env_file: "+fifo+"\n"), ParseOptions{})
	want := "f.bun:3:11: env_file: env file " + fifo + " is not a regular file"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
