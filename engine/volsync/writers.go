package volsync

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Creating a file is the costly part of syncing many small ones (the
// file system allocates an inode and a directory entry), and one stream
// reader creating them one after another leaves the other cores idle. So
// a new file smaller than smallFile is received into memory, verified
// block by block as it arrives, and handed to one of a few writers that
// create its temp file (with the same O_EXCL and planted-name rules as
// every temp file), write it, set its metadata and pass it to the
// committer. Queued files are bounded: at most writerQueue of them wait,
// so at most writerQueue × smallFile bytes are held.

// smallFile is the size under which a new file is stored by a writer.
const smallFile = syncAlone

// writerQueue bounds the small files waiting for a writer.
const writerQueue = 64

// maxWriters bounds the writers: creating files in one directory contends
// in the file system beyond a few.
const maxWriters = 4

// writers stores small new files on a few goroutines.
type writers struct {
	r    *receiver
	cm   *committer
	jobs chan writeJob
	wg   sync.WaitGroup
	stop atomic.Bool // set on the first error or an abort: queued files are dropped
	mu   sync.Mutex
	err  error
}

// writeJob is a verified small file's plan and its whole content.
type writeJob struct {
	p    *filePlan
	data []byte
}

func (r *receiver) startWriters(cm *committer) *writers {
	w := &writers{r: r, cm: cm, jobs: make(chan writeJob, writerQueue)}
	for range min(maxWriters, max(2, runtime.GOMAXPROCS(0))) {
		w.wg.Go(w.run)
	}
	return w
}

// takes reports whether p goes to a writer: a new file (no old copy, no
// interrupted temp file, nothing kept from anywhere) under smallFile bytes.
func (w *writers) takes(p *filePlan) bool {
	return p.basis == "" && p.tempID == (fileID{}) && p.en.Size < smallFile &&
		len(p.copy) == 0 && len(p.partial) == 0 && !slices.Contains(p.have, true)
}

// submit queues a file, waiting while the queue is full. It returns the
// first writer error instead once there is one.
func (w *writers) submit(p *filePlan, data []byte) error {
	if err := w.failed(); err != nil {
		return err
	}
	w.jobs <- writeJob{p, data}
	return nil
}

func (w *writers) run() {
	var dc dirCache
	defer dc.close()
	for j := range w.jobs {
		if w.stop.Load() {
			continue
		}
		if err := w.store(j, &dc); err != nil {
			w.fail(err)
		}
	}
}

// store writes one small file through a new temp file and hands it to the
// committer.
func (w *writers) store(j writeJob, dc *dirCache) error {
	r, p := w.r, j.p
	f, info, err := r.createTemp(p.tmp, dc)
	if err != nil {
		return fmt.Errorf("create temp file for %s: %w", p.en.Path, err)
	}
	if len(j.data) > 0 {
		_, err = f.WriteAt(j.data, 0)
	}
	if err == nil {
		err = r.finishTemp(f, p)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", p.tmp, err)
	}
	r.c.event(evWritten, p.en.Path)
	return w.cm.add(finished{p: p, id: idOf(info)})
}

func (w *writers) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	w.stop.Store(true)
}

func (w *writers) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// wait lets the writers finish the queue (or drop it after abort) and
// returns the first error. No submit may follow.
func (w *writers) wait() error {
	close(w.jobs)
	w.wg.Wait()
	return w.failed()
}

// abort drops the files still queued; wait must follow.
func (w *writers) abort() { w.stop.Store(true) }

// memFile is a small file assembled in memory.
type memFile []byte

// WriteAt copies b to off; the assembler writes only inside the file.
func (m memFile) WriteAt(b []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(m)) || int64(len(b)) > int64(len(m))-off {
		return 0, fmt.Errorf("write of %d bytes at offset %d is outside a %d byte file", len(b), off, len(m))
	}
	return copy(m[off:], b), nil
}
