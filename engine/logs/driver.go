package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/logs/ready"
)

// DriverArg is the first argument of the log driver process: the shim runs
// `budgie _log-driver <logDir>` (cio.BinaryIO turns the map
// {DriverArg: logDir} into those two arguments). main dispatches on it.
const DriverArg = "_log-driver"

// Defaults used when DriverOptions fields are zero or driver.json is absent.
const (
	DefaultMaxSize  int64 = 10 << 20
	DefaultMaxFiles       = 3
)

const (
	configFile = "driver.json"
	// drainGrace is how long the driver keeps reading after it was asked
	// to stop (SIGTERM from the shim, which closes its pipe ends first, so
	// whatever is left is already buffered in the pipes).
	drainGrace = 250 * time.Millisecond
)

// DriverOptions configure the log driver of one container.
type DriverOptions struct {
	// MaxSize is the size in bytes at which json.log is rotated; zero means
	// DefaultMaxSize.
	MaxSize int64 `json:"max_size"`
	// MaxFiles is how many files are kept, the current json.log included;
	// zero means DefaultMaxFiles. One means the file is simply restarted.
	MaxFiles int `json:"max_files"`
}

// withDefaults fills zero fields.
func (o DriverOptions) withDefaults() DriverOptions {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	return o
}

// WriteDriverConfig stores opts in <logDir>/driver.json, where the driver
// process reads them. The runtime calls it before creating the task; the
// directory is created if needed.
func WriteDriverConfig(logDir string, opts DriverOptions) error {
	if opts.MaxSize < 0 || opts.MaxFiles < 0 {
		return fmt.Errorf("log options max_size=%d max_files=%d: want zero (default) or more: %w",
			opts.MaxSize, opts.MaxFiles, errdefs.ErrInvalid)
	}
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return fmt.Errorf("create log directory: %w", err)
	}
	data, err := json.Marshal(opts)
	if err != nil {
		return fmt.Errorf("encode log driver options: %w", err)
	}
	tmp, err := os.CreateTemp(logDir, configFile+".*")
	if err != nil {
		return fmt.Errorf("write log driver options: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write log driver options: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write log driver options: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(logDir, configFile)); err != nil {
		return fmt.Errorf("write log driver options: %w", err)
	}
	return nil
}

// readDriverConfig reads driver.json; a missing file means the defaults. A
// broken file also gives the defaults, with an error to report.
func readDriverConfig(logDir string) (DriverOptions, error) {
	var opts DriverOptions
	data, err := os.ReadFile(filepath.Join(logDir, configFile))
	if errors.Is(err, fs.ErrNotExist) {
		return opts.withDefaults(), nil
	}
	if err == nil {
		err = json.Unmarshal(data, &opts)
	}
	if err != nil {
		return DriverOptions{}.withDefaults(), fmt.Errorf("read log driver options (using defaults): %w", err)
	}
	return opts.withDefaults(), nil
}

// RunDriver is the whole body of the log driver process that containerd's
// shim starts: it takes the container's stdout and stderr from fds 3 and 4,
// reads driver.json, closes fd 5 to tell the shim it is ready, and writes
// the output (Drive) until both streams end. On SIGTERM (the shim sends it
// when the task is deleted, after closing its ends of the pipes) or SIGINT
// it writes what is still buffered and returns.
func RunDriver(logDir string) error {
	stdout, err := inheritedPipe(3, "container-stdout")
	if err != nil {
		return err
	}
	stderr, err := inheritedPipe(4, "container-stderr")
	if err != nil {
		return err
	}
	opts, cfgErr := readDriverConfig(logDir)
	ctx, stop := driverContext()
	defer stop()
	// The shim waits for EOF on descriptor 5 before it starts the
	// container; package ready's init has usually closed it already.
	// Output written meanwhile waits in the pipes.
	ready.Signal()
	return errors.Join(cfgErr, Drive(ctx, logDir, stdout, stderr, opts))
}

// driverContext is cancelled by SIGTERM or SIGINT, counting those package
// ready caught before main ran.
func driverContext() (context.Context, context.CancelFunc) {
	caught := ready.Stopping()
	if caught == nil {
		return signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-caught:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// inheritedPipe wraps an inherited descriptor. It is made non-blocking so
// that reads go through Go's poller and can be given a deadline.
func inheritedPipe(fd int, name string) (*os.File, error) {
	var st syscall.Stat_t
	err := syscall.Fstat(fd, &st)
	if err == nil && st.Mode&syscall.S_IFMT != syscall.S_IFIFO && st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		err = errors.New("not a pipe")
	}
	if err == nil {
		err = syscall.SetNonblock(fd, true)
	}
	if err != nil {
		return nil, fmt.Errorf("log driver: fd %d is not open on a pipe (the driver is run by containerd's shim, not by hand): %w", fd, err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

// Drive writes what it reads from stdout and stderr to logDir (created if
// needed) as the driver process does, and returns when both readers are at
// EOF. Lines without a final newline are written at the end. A nil reader
// counts as empty.
//
// Cancelling ctx asks Drive to finish: readers that have SetReadDeadline
// (os.File pipes) get a deadline drainGrace (250 ms) away, so what is
// already buffered is still written; other readers are waited for.
//
// If the log file cannot be written, Drive keeps reading (so the container
// never blocks on a full pipe) and returns the first error at the end.
func Drive(ctx context.Context, logDir string, stdout, stderr io.Reader, opts DriverOptions) error {
	w, openErr := openWriter(logDir, opts.withDefaults())
	openFailed := w.broken != nil
	defer w.close()
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			for _, r := range []io.Reader{stdout, stderr} {
				if d, ok := r.(interface{ SetReadDeadline(time.Time) error }); ok {
					_ = d.SetReadDeadline(time.Now().Add(drainGrace))
				}
			}
		case <-stopped:
		}
	}()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, r := range []io.Reader{stdout, stderr} {
		if r == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = copyStream(r, streamNames[i], w)
		}()
	}
	wg.Wait()
	if openFailed {
		return openErr // every write failed the same way
	}
	return errors.Join(openErr, errs[0], errs[1], w.close())
}
