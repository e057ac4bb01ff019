package logs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

const (
	logFile = "json.log"
	// maxEntry is the most output bytes one entry holds; longer lines are
	// split like Docker does (its copier's buffer is 16 KiB too).
	maxEntry = 16 << 10
	// readSize is how much copyStream asks a pipe for at once.
	readSize = 32 << 10
)

// streamNames are the json-file stream names, stdout first.
var streamNames = [2]string{"stdout", "stderr"}

// entry is one json-file line. Field order is Docker's.
type entry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// fileWriter appends entries to json.log and rotates it. Both streams share
// it; a mutex serializes entries, and each entry is one Write.
type fileWriter struct {
	mu     sync.Mutex
	dir    string
	opts   DriverOptions
	f      *os.File
	size   int64
	buf    []byte
	broken error
	now    func() time.Time
}

// openWriter opens (appending) or creates json.log in dir, and deletes
// rotated files beyond MaxFiles. It always returns a writer: when json.log
// cannot be opened, one that discards entries and returns the error (so the
// caller can keep the container's pipes drained); when only the pruning
// failed, a working one along with that error.
func openWriter(dir string, opts DriverOptions) (*fileWriter, error) {
	w := &fileWriter{dir: dir, opts: opts, now: time.Now}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		w.broken = fmt.Errorf("open container log: create directory: %w", err)
		return w, w.broken
	}
	if err := w.open(); err != nil {
		w.broken = err
		return w, err
	}
	// Files left beyond MaxFiles do no harm; report but keep logging.
	return w, w.pruneExtra()
}

// open opens json.log for appending and learns its size.
func (w *fileWriter) open() error {
	f, err := os.OpenFile(filepath.Join(w.dir, logFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open container log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open container log: %w", err)
	}
	w.f, w.size = f, st.Size()
	return nil
}

// write appends one entry of stream per piece. Entries are written
// together, one Write for as many whole entries as fit before the next
// rotation, so an entry never spans two writes.
func (w *fileWriter) write(stream string, pieces ...[]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.broken != nil {
		return w.broken
	}
	var err error
	w.buf = w.buf[:0]
	for _, p := range pieces {
		mark := len(w.buf)
		// The time is taken under the lock so it never goes backwards in the file.
		w.buf = appendEntry(w.buf, stream, p, w.now())
		if used := w.size + int64(mark); used > 0 && used+int64(len(w.buf)-mark) > w.opts.MaxSize {
			err = errors.Join(err, w.flush(w.buf[:mark]), w.rotate())
			w.buf = w.buf[:copy(w.buf, w.buf[mark:])]
		}
	}
	return errors.Join(err, w.flush(w.buf))
}

// flush writes whole entries to json.log (reopening it if a rotation left
// none open).
func (w *fileWriter) flush(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if w.f == nil {
		if err := w.open(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(b)
	w.size += int64(n)
	if err != nil {
		return fmt.Errorf("write container log: %w", err)
	}
	return nil
}

// rotate shifts json.log.N-1 … json.log.1 up by one, renames json.log to
// json.log.1 (or removes it when only one file is kept) and starts a new
// json.log. The oldest file beyond MaxFiles is deleted.
func (w *fileWriter) rotate() error {
	if err := shiftFiles(filepath.Join(w.dir, logFile), w.opts.MaxFiles); err != nil {
		// Keep writing to the current file rather than lose output.
		return fmt.Errorf("rotate container log: %w", err)
	}
	old := w.f
	w.f = nil
	old.Close()
	return w.open()
}

// pruneExtra deletes rotated files MaxFiles would not keep (left over when
// the setting was lowered).
func (w *fileWriter) pruneExtra() error {
	files, err := rotatedFiles(w.dir)
	if err != nil {
		return err
	}
	for _, rf := range files {
		if rf.index >= w.opts.MaxFiles {
			if err := removeIfExists(rf.path); err != nil {
				return fmt.Errorf("prune old container logs: %w", err)
			}
		}
	}
	return nil
}

// close closes the file; it may be called more than once.
func (w *fileWriter) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if w.broken == nil {
		w.broken = errors.New("container log closed")
	}
	if err != nil {
		return fmt.Errorf("close container log: %w", err)
	}
	return nil
}

// shiftFiles renames path.N-1 … path.1 up by one and path to path.1,
// deleting the oldest file beyond maxFiles (path itself when only one file
// is kept). The caller then starts a new path.
func shiftFiles(path string, maxFiles int) error {
	if maxFiles <= 1 {
		return os.Remove(path)
	}
	numbered := func(k int) string { return path + "." + strconv.Itoa(k) }
	err := removeIfExists(numbered(maxFiles - 1))
	for k := maxFiles - 2; k >= 1 && err == nil; k-- {
		err = renameIfExists(numbered(k), numbered(k+1))
	}
	if err == nil {
		err = os.Rename(path, numbered(1))
	}
	return err
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func renameIfExists(from, to string) error {
	if err := os.Rename(from, to); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// partialFlush is how long an unfinished line may wait for its newline
// before it is written as a partial entry (one whose "log" does not end in
// "\n"; readers join it with what follows). The shim keeps the pipes open
// until the task is deleted, so without this a prompt or a last line
// without newline would stay invisible while the container lives.
const partialFlush = 100 * time.Millisecond

// readChunk is one read from a container stream.
type readChunk struct {
	b   []byte
	err error
}

// copyStream reads r until EOF and writes it as entries of stream: one per
// line, lines longer than maxEntry split into several, an unfinished line
// flushed as a partial entry after partialFlush of silence, and what is
// left at the end as a last entry. A read deadline counts as the end.
// Write errors do not stop the reading; the first is returned.
func copyStream(r io.Reader, stream string, w *fileWriter) error {
	chunks := make(chan readChunk, 4)
	go func() {
		for {
			b := make([]byte, readSize)
			n, err := r.Read(b)
			chunks <- readChunk{b[:n], err}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 0, maxEntry+readSize)
	var writeErr error
	var pieces [][]byte
	emit := func(p ...[]byte) {
		if err := w.write(stream, p...); err != nil && writeErr == nil {
			writeErr = err
		}
	}
	idle := time.NewTimer(partialFlush)
	idle.Stop()
	for {
		select {
		case <-idle.C:
			if len(buf) > 0 {
				emit(buf)
				buf = buf[:0]
			}
			continue
		case c := <-chunks:
			buf = append(buf, c.b...)
			pieces = pieces[:0]
			rest := splitEntries(buf, func(p []byte) { pieces = append(pieces, p) })
			if len(pieces) > 0 {
				emit(pieces...)
			}
			buf = buf[:copy(buf, rest)]
			idle.Stop()
			if c.err != nil {
				if len(buf) > 0 {
					emit(buf)
				}
				if errors.Is(c.err, io.EOF) || errors.Is(c.err, os.ErrDeadlineExceeded) {
					return writeErr
				}
				return errors.Join(fmt.Errorf("read container %s: %w", stream, c.err), writeErr)
			}
			if len(buf) > 0 {
				idle.Reset(partialFlush)
			}
		}
	}
}

// splitEntries hands each complete line of p, and each maxEntry-sized
// piece of a longer one, to emit, and returns the unfinished rest.
func splitEntries(p []byte, emit func([]byte)) []byte {
	for {
		window := p[:min(len(p), maxEntry)]
		if i := bytes.IndexByte(window, '\n'); i >= 0 {
			emit(p[:i+1])
			p = p[i+1:]
			continue
		}
		if len(p) < maxEntry {
			return p
		}
		cut := runeSafeCut(window)
		emit(p[:cut])
		p = p[cut:]
	}
}

// runeSafeCut returns where to split p so that a UTF-8 sequence cut at the
// end of p moves whole into the next entry (JSON would turn its halves into
// U+FFFD). Bytes that are not UTF-8 are cut anywhere.
func runeSafeCut(p []byte) int {
	for i := len(p) - 1; i >= 0 && i >= len(p)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(p[i]) {
			if i > 0 && !utf8.FullRune(p[i:]) {
				return i
			}
			break
		}
	}
	return len(p)
}
