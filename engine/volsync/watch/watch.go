package watch

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// InternalPrefix starts the names of sync's temporary files, which are
// never reported.
const InternalPrefix = ".budgie-sync."

// Options tune a Watcher.
type Options struct {
	// Debounce is the quiet time before a batch is delivered; zero means 250 ms.
	Debounce time.Duration
	// MaxDelay bounds how long a batch waits after its first change even if
	// changes keep coming; zero means 1 s.
	MaxDelay time.Duration
	// Logger receives what the watcher does; nil means discard.
	Logger *slog.Logger
}

// Change is a batch of changes under the root.
type Change struct {
	// Paths are the changed paths, relative to the root, slash-separated,
	// sorted and without duplicates (creates, writes, removes, renames, chmods).
	Paths []string
	// Rescan is true when events were lost: the consumer must rescan everything.
	Rescan bool
}

// Watcher watches one directory tree. Use New; Close stops it.
type Watcher struct {
	root string
	opts Options
	log  *slog.Logger
	fsw  *fsnotify.Watcher
	out  chan Change
	quit chan struct{}
	done chan struct{}
	once sync.Once

	// owned by the run goroutine:
	pending map[string]bool
	rescan  bool
}

// New starts watching every directory under root.
func New(root string, opts Options) (*Watcher, error) {
	if opts.Debounce == 0 {
		opts.Debounce = 250 * time.Millisecond
	}
	if opts.MaxDelay == 0 {
		opts.MaxDelay = time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}
	w := &Watcher{root: abs, opts: opts, log: log, fsw: fsw, out: make(chan Change, 1),
		quit: make(chan struct{}), done: make(chan struct{}), pending: map[string]bool{}}
	if err := w.addTree(abs, false); err != nil {
		fsw.Close()
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}
	go w.run()
	return w, nil
}

// Changes delivers batches; it is closed by Close.
func (w *Watcher) Changes() <-chan Change { return w.out }

// Close stops watching and closes Changes; calling it again does nothing.
func (w *Watcher) Close() error {
	var err error
	w.once.Do(func() {
		close(w.quit)
		err = w.fsw.Close()
		<-w.done
	})
	return err
}

// addTree watches dir and every directory below it (symlinks are not
// followed). With report, the entries found are recorded as changed: they
// may have appeared before the watch.
func (w *Watcher) addTree(dir string, report bool) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			w.rescan = true // a part of the tree vanished or is unreadable
			return nil
		}
		if report && path != dir {
			w.note(path)
		}
		if !d.IsDir() {
			return nil
		}
		if err := w.fsw.Add(path); err != nil {
			if path == dir && !report {
				return err
			}
			w.log.Warn("watch: cannot add a watch; will rescan", "path", path, "err", err)
			w.rescan = true
		}
		return nil
	})
}

// note records a changed absolute path, unless it is internal.
func (w *Watcher) note(abs string) {
	rel, err := filepath.Rel(w.root, abs)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return
	}
	if strings.HasPrefix(filepath.Base(rel), InternalPrefix) {
		return
	}
	w.pending[filepath.ToSlash(rel)] = true
}

// run turns events into batches until Close.
func (w *Watcher) run() {
	defer close(w.done)
	defer close(w.out)
	var quiet, ceiling <-chan time.Time
	var quietT, ceilT *time.Timer
	arm := func() {
		if quietT != nil {
			quietT.Stop()
		}
		quietT = time.NewTimer(w.opts.Debounce)
		quiet = quietT.C
		if ceilT == nil {
			ceilT = time.NewTimer(w.opts.MaxDelay)
			ceiling = ceilT.C
		}
	}
	flush := func() {
		if quietT != nil {
			quietT.Stop()
		}
		if ceilT != nil {
			ceilT.Stop()
		}
		quietT, ceilT, quiet, ceiling = nil, nil, nil, nil
		w.deliver()
	}
	for {
		select {
		case <-w.quit:
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			w.handle(ev)
			arm()
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.handleError(err)
			arm()
		case <-quiet:
			flush()
		case <-ceiling:
			flush()
		}
	}
}

// handle records one event; a new directory gets its subtree watched.
func (w *Watcher) handle(ev fsnotify.Event) {
	w.note(ev.Name)
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			if err := w.addTree(ev.Name, true); err != nil {
				w.rescan = true
			}
		}
	}
	// fsnotify drops the watch of a removed or renamed directory itself.
}

// handleError turns a lost-events error into a rescan.
func (w *Watcher) handleError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		w.log.Warn("watch: inotify queue overflowed; will rescan", "root", w.root)
	} else {
		w.log.Warn("watch: error; will rescan", "root", w.root, "err", err)
	}
	w.rescan = true
}

// deliver sends the pending batch, waiting for the consumer (or Close).
func (w *Watcher) deliver() {
	if len(w.pending) == 0 && !w.rescan {
		return
	}
	c := Change{Rescan: w.rescan, Paths: make([]string, 0, len(w.pending))}
	for p := range w.pending {
		c.Paths = append(c.Paths, p)
	}
	sort.Strings(c.Paths)
	w.pending, w.rescan = map[string]bool{}, false
	select {
	case w.out <- c:
	case <-w.quit:
	}
}
