package logs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// TimestampFormat is how Read prints times with Timestamps (docker logs -t
// prints the same fixed-width RFC 3339 with nanoseconds, in UTC).
const TimestampFormat = "2006-01-02T15:04:05.000000000Z07:00"

const (
	// pollInterval is how often Follow looks for new output and rotation.
	pollInterval = 100 * time.Millisecond
	// doneInterval is the least time between two calls of ReadOptions.Done.
	doneInterval = 250 * time.Millisecond
	// settlePolls is how many empty polls after Done reported true end
	// Follow: time for the driver to write what was still in the pipes.
	settlePolls = 2
)

// ReadOptions tune Read.
type ReadOptions struct {
	// Stdout and Stderr receive the container's stdout and stderr lines,
	// one Write per line; nil drops that stream.
	Stdout, Stderr io.Writer
	// Tail, when zero or more, prints only the last Tail lines (a line
	// split over several entries counts once); negative prints all.
	Tail int
	// Since drops lines written before it; zero keeps all.
	Since time.Time
	// Timestamps prefixes each line with its time in TimestampFormat and a
	// space.
	Timestamps bool
	// Follow keeps printing lines as they are written, across rotations,
	// until Done reports true (or ctx ends).
	Follow bool
	// Done reports whether the container has stopped. Follow calls it
	// while idle, at most every 250 ms; once it is true, Read prints what is
	// still written in the next ~200 ms and returns. Nil means follow until
	// ctx ends.
	Done func() bool
}

// Read prints the logs kept in logDir: stdout lines to opts.Stdout, stderr
// lines to opts.Stderr, oldest first across rotated files. A missing logDir
// is an error wrapping errdefs.ErrNotFound; a container that never ran has
// no lines. With Follow it returns ctx.Err() when ctx ends first.
func Read(ctx context.Context, logDir string, opts ReadOptions) error {
	if _, err := os.Stat(logDir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no logs for container %s (it may have been removed): %w", filepath.Base(logDir), errdefs.ErrNotFound)
		}
		return fmt.Errorf("read container logs: %w", err)
	}
	chain, err := openChain(logDir)
	if err != nil {
		return err
	}
	r := &reader{dir: logDir, opts: opts}
	var start position
	if opts.Tail >= 0 {
		start, r.from, err = findTail(chain, opts.Tail)
		if err != nil {
			closeRefs(chain)
			return err
		}
	}
	cur, err := r.readChain(ctx, chain, start)
	if err != nil || !opts.Follow {
		if cur != nil {
			cur.close()
		}
		if err != nil {
			return err
		}
		return r.flushPending()
	}
	return r.follow(ctx, cur)
}

// position is where an entry starts: a file (0 is the oldest Read saw) and
// a byte offset in it.
type position struct {
	file int
	off  int64
}

func (p position) before(q position) bool {
	return p.file < q.file || p.file == q.file && p.off < q.off
}

// pendingLine is a line of one stream being joined from its entries.
type pendingLine struct {
	active bool
	buf    []byte
	time   time.Time
	last   position
}

// reader prints entries; it joins split lines per stream.
type reader struct {
	dir  string
	opts ReadOptions
	// from: lines whose last entry starts before it are not printed (Tail).
	from    position
	pending [2]pendingLine
	out     []byte
}

// streamIndex maps a json-file stream name to 0 (stdout) or 1 (stderr).
func streamIndex(name string) (int, bool) {
	switch name {
	case "stdout":
		return 0, true
	case "stderr":
		return 1, true
	}
	return 0, false
}

// readChain reads chain from start to EOF and returns a cursor left at the
// end of the newest file (nil when there is none). The other files are
// closed.
func (r *reader) readChain(ctx context.Context, chain []logFileRef, start position) (*cursor, error) {
	var cur *cursor
	for i, ref := range chain {
		if i < start.file {
			ref.f.Close()
			continue
		}
		if cur != nil {
			cur.close()
		}
		off := int64(0)
		if i == start.file {
			off = start.off
		}
		var err error
		if cur, err = newCursor(ref, i, off); err == nil {
			_, err = r.drain(ctx, cur)
		}
		if err != nil {
			closeRefs(chain[i+1:])
			if cur != nil {
				cur.close()
			}
			return nil, err
		}
	}
	return cur, nil
}

// drain handles every complete entry up to the end of cur's file and
// returns how many it read.
func (r *reader) drain(ctx context.Context, cur *cursor) (int, error) {
	n := 0
	for {
		line, off, err := cur.next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		if n%1024 == 0 && ctx.Err() != nil {
			return n, ctx.Err()
		}
		var e entry
		if json.Unmarshal(line, &e) != nil {
			continue // not an entry (a torn write); skip it like Docker does
		}
		if err := r.add(&e, position{cur.idx, off}); err != nil {
			return n, err
		}
	}
}

// add joins e to its stream's line and prints the line when e ends it.
func (r *reader) add(e *entry, pos position) error {
	i, ok := streamIndex(e.Stream)
	if !ok {
		return nil
	}
	p := &r.pending[i]
	if !p.active {
		p.active, p.time, p.buf = true, e.Time, p.buf[:0]
	}
	p.buf = append(p.buf, e.Log...)
	p.last = pos
	if strings.HasSuffix(e.Log, "\n") {
		return r.finish(i)
	}
	return nil
}

// finish prints stream i's pending line unless options filter it out.
func (r *reader) finish(i int) error {
	p := &r.pending[i]
	p.active = false
	w := r.opts.Stdout
	if i == 1 {
		w = r.opts.Stderr
	}
	if w == nil || p.last.before(r.from) || p.time.Before(r.opts.Since) {
		return nil
	}
	r.out = r.out[:0]
	if r.opts.Timestamps {
		r.out = p.time.UTC().AppendFormat(r.out, TimestampFormat)
		r.out = append(r.out, ' ')
	}
	r.out = append(r.out, p.buf...)
	if _, err := w.Write(r.out); err != nil {
		return fmt.Errorf("write container logs: %w", err)
	}
	return nil
}

// flushPending prints lines left without a final newline, in file order.
func (r *reader) flushPending() error {
	order := []int{0, 1}
	if r.pending[1].last.before(r.pending[0].last) {
		slices.Reverse(order)
	}
	for _, i := range order {
		if r.pending[i].active {
			if err := r.finish(i); err != nil {
				return err
			}
		}
	}
	return nil
}

// follow keeps reading cur (nil: no log file yet), moving to the next file
// when json.log is rotated, until Done settles or ctx ends.
func (r *reader) follow(ctx context.Context, cur *cursor) (err error) {
	defer func() {
		if cur != nil {
			cur.close()
		}
	}()
	quiet, doneSeen := 0, false
	var lastCheck time.Time
	for {
		n := 0
		if cur != nil {
			if n, err = r.drain(ctx, cur); err != nil {
				return err
			}
		}
		next, err := r.successor(cur)
		if err != nil {
			return err
		}
		if next != nil {
			if cur != nil {
				// Entries written between our EOF and the rename.
				_, err = r.drain(ctx, cur)
				cur.close()
			}
			cur, quiet = next, 0
			if err != nil {
				return err
			}
			continue
		}
		switch {
		case n > 0:
			quiet = 0
		case doneSeen:
			if quiet++; quiet >= settlePolls {
				return r.flushPending()
			}
		case r.opts.Done != nil && time.Since(lastCheck) >= doneInterval:
			lastCheck = time.Now()
			doneSeen = r.opts.Done()
		}
		if err := sleep(ctx, pollInterval); err != nil {
			return err
		}
	}
}

// successor returns a cursor on the file written after cur's, if json.log
// is no longer cur's file; nil when there is nothing newer yet.
func (r *reader) successor(cur *cursor) (*cursor, error) {
	st, err := os.Stat(filepath.Join(r.dir, logFile))
	if err != nil || cur != nil && os.SameFile(st, cur.ref.info) {
		return nil, nil // not rotated (or between a rename and the new file)
	}
	chain, err := openChain(r.dir)
	if err != nil {
		return nil, err
	}
	k, idx := 0, 0
	if cur != nil {
		idx = cur.idx + 1
		// A file not found was deleted: everything left is newer.
		if j := slices.IndexFunc(chain, func(c logFileRef) bool { return os.SameFile(c.info, cur.ref.info) }); j >= 0 {
			k = j + 1
		}
	}
	if k >= len(chain) {
		closeRefs(chain)
		return nil, nil
	}
	closeRefs(chain[:k])
	closeRefs(chain[k+1:])
	return newCursor(chain[k], idx, 0)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// cursor reads the entry lines of one log file forward. A line still being
// written is kept until its newline arrives.
type cursor struct {
	ref   logFileRef
	idx   int
	off   int64 // offset of the next byte from br
	br    *bufio.Reader
	carry []byte
}

func newCursor(ref logFileRef, idx int, off int64) (*cursor, error) {
	if _, err := ref.f.Seek(off, io.SeekStart); err != nil {
		ref.f.Close()
		return nil, fmt.Errorf("read container log: %w", err)
	}
	return &cursor{ref: ref, idx: idx, off: off, br: bufio.NewReaderSize(ref.f, 64<<10)}, nil
}

// next returns the next complete line, valid until the following call, and
// its offset; io.EOF when no complete line is there yet.
func (c *cursor) next() ([]byte, int64, error) {
	for {
		b, err := c.br.ReadSlice('\n')
		start := c.off - int64(len(c.carry))
		c.off += int64(len(b))
		if err == nil {
			if len(c.carry) == 0 {
				return b, start, nil
			}
			line := append(c.carry, b...)
			c.carry = line[:0]
			return line, start, nil
		}
		c.carry = append(c.carry, b...)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return nil, 0, io.EOF
		default:
			return nil, 0, fmt.Errorf("read container log: %w", err)
		}
	}
}

func (c *cursor) close() { c.ref.f.Close() }
