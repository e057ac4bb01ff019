package logs

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// FileOptions configure a RotatingFile.
type FileOptions struct {
	// MaxSize is the size in bytes past which the file is rotated; zero
	// means DefaultMaxSize (10 MiB, as container logs).
	MaxSize int64
	// MaxFiles is how many files are kept, the current one included; zero
	// means DefaultMaxFiles (3).
	MaxFiles int
	// Opened is called with each file the writer opens: the first one and
	// the new one after every rotation, before anything is written to it;
	// nil means nothing. The keeper uses it to point its stderr at the
	// current file, so that a crash's trace lands in the log too.
	Opened func(*os.File)
}

// RotatingFile is an io.Writer that appends to one file and rotates it by
// size, like container logs: path becomes path.1, path.1 becomes path.2 and
// so on, keeping MaxFiles files in all. Each Write lands whole in one file
// (a write larger than MaxSize gets a file of its own). It is safe for
// concurrent use.
type RotatingFile struct {
	mu   sync.Mutex
	path string
	opts FileOptions
	f    *os.File // nil after Close, or after a rotation that could not reopen
	size int64
}

// OpenRotating opens path for appending (mode 0600), creating it if needed.
func OpenRotating(path string, opts FileOptions) (*RotatingFile, error) {
	d := DriverOptions{MaxSize: opts.MaxSize, MaxFiles: opts.MaxFiles}.withDefaults()
	opts.MaxSize, opts.MaxFiles = d.MaxSize, d.MaxFiles
	w := &RotatingFile{path: path, opts: opts}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *RotatingFile) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open log %s: %w", w.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open log %s: %w", w.path, err)
	}
	w.f, w.size = f, st.Size()
	if w.opts.Opened != nil {
		w.opts.Opened(f)
	}
	return nil
}

// Write appends p, rotating first when p would take the file past MaxSize.
// A failed rotation is reported but p is still written to the current file.
func (w *RotatingFile) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var rotErr error
	if w.f != nil && w.size > 0 && w.size+int64(len(p)) > w.opts.MaxSize {
		if err := shiftFiles(w.path, w.opts.MaxFiles); err != nil {
			rotErr = fmt.Errorf("rotate log %s: %w", w.path, err)
		} else {
			old := w.f
			w.f = nil
			old.Close()
		}
	}
	if w.f == nil {
		if err := w.open(); err != nil {
			return 0, errors.Join(rotErr, err)
		}
	}
	n, err := w.f.Write(p)
	w.size += int64(n)
	if err != nil {
		return n, errors.Join(rotErr, fmt.Errorf("write log %s: %w", w.path, err))
	}
	return n, rotErr
}

// Close closes the current file; a later Write opens it again.
func (w *RotatingFile) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
