package logs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// backChunk is how much findTail reads at a time, from the end backwards.
const backChunk = 64 << 10

// findTail works out, reading backwards from the end of chain, where the
// last n lines are: start is the first entry to read (the first piece of
// the oldest of those lines), from the entry ending the oldest of them.
// Lines are ordered by their last entry, as Read prints them. Only the
// entries of the last lines (and of lines of the other stream between
// their pieces) are read.
func findTail(chain []logFileRef, n int) (start, from position, err error) {
	t := tailScan{n: n}
	for i := len(chain) - 1; i >= 0; i-- {
		stopped, err := scanBackward(chain[i].f, chain[i].info.Size(), func(off int64, line []byte) bool {
			return t.visit(position{i, off}, line)
		})
		if err != nil {
			return position{}, position{}, fmt.Errorf("read container log: %w", err)
		}
		if stopped {
			break
		}
		if n == 0 && len(chain) > 0 && !t.found {
			// No complete entry in the newest file: start at its beginning.
			t.start = position{len(chain) - 1, 0}
			t.from = t.start
			break
		}
	}
	return t.start, t.from, nil
}

// tailScan is findTail's state while it visits entries newest first.
type tailScan struct {
	n     int
	count int  // line ends seen
	found bool // for n == 0: the end is known
	// seen: the stream has a line among the last n. open: that line may
	// still have earlier pieces (the stream's previous line end is not
	// reached yet).
	seen, open  [2]bool
	start, from position
}

// visit takes the entry line at pos and reports whether the scan is over.
func (t *tailScan) visit(pos position, line []byte) bool {
	if t.n == 0 {
		t.start = position{pos.file, pos.off + int64(len(line))}
		t.from, t.found = t.start, true
		return true
	}
	var e entry
	if json.Unmarshal(line, &e) != nil {
		return false
	}
	i, ok := streamIndex(e.Stream)
	if !ok {
		return false
	}
	complete := strings.HasSuffix(e.Log, "\n")
	if t.count < t.n {
		// A stream's last entry ends its line even without a newline.
		if complete || !t.seen[i] {
			t.count++
			t.from = pos
		}
		t.seen[i], t.open[i], t.start = true, true, pos
		return false
	}
	if !t.open[i] {
		return false
	}
	if complete {
		t.open[i] = false
		return !t.open[0] && !t.open[1]
	}
	t.start = pos // an earlier piece of a line we print
	return false
}

// scanBackward calls fn with each complete line of f's first size bytes
// (and its offset), last line first, until fn returns true; it reports
// whether fn did. A last line without a newline (being written) is left
// out.
func scanBackward(f io.ReaderAt, size int64, fn func(off int64, line []byte) bool) (bool, error) {
	var rest []byte // bytes from pos on that are not yet visited
	pos, trimmed := size, false
	for pos > 0 {
		n := min(int64(backChunk), pos)
		pos -= n
		data := make([]byte, n, n+int64(len(rest)))
		if _, err := f.ReadAt(data, pos); err != nil {
			return false, err
		}
		data = append(data, rest...)
		if !trimmed {
			i := bytes.LastIndexByte(data, '\n')
			if i < 0 {
				rest = data
				continue
			}
			data, trimmed = data[:i+1], true
		}
		for {
			j := bytes.LastIndexByte(data[:len(data)-1], '\n')
			if j < 0 {
				break
			}
			if fn(pos+int64(j+1), data[j+1:]) {
				return true, nil
			}
			data = data[:j+1]
		}
		rest = data
	}
	if trimmed && len(rest) > 0 {
		return fn(0, rest), nil
	}
	return false, nil
}
