package volsync

import (
	"fmt"
	"os"
)

// Hashing a fetched block to check it against the index costs more than
// receiving it, so one stream reader doing both caps a fresh copy at one
// core's hashing speed. A file's whole fetched blocks are therefore copied
// out of the stream by the reader and hashed, checked and written by a
// blockWriter on a goroutine of its own; the file is finished only after
// every block it was given passed (wait).

// blockJob is one whole block received: block i, its first n bytes in buf
// (a getBuf buffer the writer puts back).
type blockJob struct {
	i   int
	buf []byte
	n   int
}

// blockWriter checks and writes the whole blocks of one temp file.
type blockWriter struct {
	p    *filePlan
	f    *os.File
	jobs chan blockJob
	done chan struct{}
	err  error // the first failure; read after done
	wb   writeback
}

// newBlockWriter starts a writer for p's temp file f. At most about 8 MiB
// of blocks wait for it.
func (r *receiver) newBlockWriter(p *filePlan, f *os.File) *blockWriter {
	w := &blockWriter{p: p, f: f, jobs: make(chan blockJob, max(2, (8<<20)/p.en.BlockSize)),
		done: make(chan struct{}), wb: writeback{k: r.kick}}
	go w.run()
	return w
}

func (w *blockWriter) run() {
	defer close(w.done)
	bs := int64(w.p.en.BlockSize)
	for j := range w.jobs {
		if w.err == nil {
			b := j.buf[:j.n]
			if blockSum(b) != w.p.en.Blocks[j.i] {
				w.err = protoErr("block %d of %q does not match its hash in the index", j.i, w.p.en.Path)
			} else if _, err := w.f.WriteAt(b, int64(j.i)*bs); err != nil {
				w.err = fmt.Errorf("write %s: %w", w.p.tmp, err)
			} else {
				w.wb.wrote(w.f, j.n)
			}
		}
		putBuf(j.buf)
	}
}

// wait lets the writer finish the blocks given and returns its first
// failure. No block may follow.
func (w *blockWriter) wait() error {
	close(w.jobs)
	<-w.done
	return w.err
}
