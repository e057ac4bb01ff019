package logs

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/views/common"
)

const (
	// chanSize bounds the lines in flight between the reader goroutine and the view.
	chanSize = 4096
	// batchSize is the most lines one message carries.
	batchSize = 2048
	// maxLine cuts absurdly long lines.
	maxLine = 64 << 10
)

// stream is one run of Backend.Logs feeding a channel.
type stream struct {
	lines  chan Line
	errc   chan error
	cancel context.CancelFunc
}

// linesMsg is one batch of lines of stream gen of container id.
type linesMsg struct {
	id    string
	gen   int
	lines []Line
}

// endMsg says stream gen of container id ended (err nil: the container stopped).
type endMsg struct {
	id  string
	gen int
	err error
}

// startStream runs Backend.Logs in a goroutine writing into a buffered
// channel; readBatch reads it one batch at a time (STYLE 9).
func startStream(c common.Common, id string, opts engine.LogsOptions) *stream {
	ctx, cancel := context.WithCancel(c.Ctx)
	s := &stream{lines: make(chan Line, chanSize), errc: make(chan error, 1), cancel: cancel}
	go func() {
		out, errw := &lineWriter{ctx: ctx, ch: s.lines}, &lineWriter{ctx: ctx, ch: s.lines, stderr: true}
		opts.Stdout, opts.Stderr = out, errw
		err := c.Backend.Logs(ctx, id, opts)
		out.flush()
		errw.flush()
		if err != nil && ctx.Err() == nil {
			s.errc <- err
		}
		close(s.lines)
	}()
	return s
}

// readBatch waits for one line, then takes what else is ready, up to batchSize.
func readBatch(s *stream, id string, gen int) tea.Cmd {
	return func() tea.Msg {
		l, ok := <-s.lines
		if !ok {
			select {
			case err := <-s.errc:
				return endMsg{id: id, gen: gen, err: err}
			default:
				return endMsg{id: id, gen: gen}
			}
		}
		batch := make([]Line, 1, 64)
		batch[0] = l
		for len(batch) < batchSize {
			select {
			case l, ok := <-s.lines:
				if !ok {
					return linesMsg{id: id, gen: gen, lines: batch}
				}
				batch = append(batch, l)
			default:
				return linesMsg{id: id, gen: gen, lines: batch}
			}
		}
		return linesMsg{id: id, gen: gen, lines: batch}
	}
}

// lineWriter splits what Backend.Logs writes into lines and sends them
// on ch, blocking while the view catches up (so memory stays bounded).
type lineWriter struct {
	ctx    context.Context
	ch     chan<- Line
	stderr bool
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 && len(w.buf) < maxLine {
			return len(p), nil
		}
		if i < 0 {
			i = maxLine
		}
		line := string(w.buf[:i])
		w.buf = w.buf[min(i+1, len(w.buf)):]
		if err := w.send(line); err != nil {
			return 0, err
		}
	}
}

func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		_ = w.send(string(w.buf))
		w.buf = nil
	}
}

func (w *lineWriter) send(text string) error {
	l := parseLine(strings.TrimSuffix(text, "\r"))
	l.Stderr = w.stderr
	select {
	case w.ch <- l:
		return nil
	case <-w.ctx.Done():
		return fmt.Errorf("log stream closed: %w", w.ctx.Err())
	}
}

// parseLine splits a leading RFC 3339 timestamp off and strips escape
// sequences, which would break the layout.
func parseLine(text string) Line {
	var l Line
	if ts, rest, ok := strings.Cut(text, " "); ok && len(ts) >= 20 && ts[4] == '-' {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			l.Time, text = t, rest
		}
	}
	if strings.ContainsRune(text, '\x1b') {
		text = ansi.Strip(text)
	}
	l.Text = strings.ReplaceAll(text, "\t", "    ")
	return l
}
