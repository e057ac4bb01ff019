package volsync

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"sync"

	"golang.org/x/sys/unix"
)

// The durability contract: a file is reported synced (Progress.FilesDone,
// Stats.FilesTransferred) only after its data and metadata are on disk
// (an fsync of its temp file, or a syncfs after the temp file was closed),
// the temp file was renamed over the real name and that directory was
// fsynced after the rename (and, for a directory this sync created, its
// parent after the mkdir). A crash therefore loses at most files not yet
// reported, and never shows a partial file under a real name.
//
// Files are made durable in batches by a committer running beside the
// stream reader, so the network, the hashing and the disk work at once:
// the reader hands over each finished temp file and goes on with the next
// while the committer flushes the batch before.

// Batch limits: a batch is handed to the flush as soon as the flush is
// idle, and the reader waits only when one reaches these sizes meanwhile.
const (
	batchFiles = 512
	batchBytes = 64 << 20
)

// syncEvent is a step of the durability contract, reported to the
// Client's test hook (Client.hook) after it happened.
type syncEvent uint8

const (
	evPlan       syncEvent = iota + 1 // a file is about to be planned (hashing its old copy)
	evCreate                          // a temp file is about to be created
	evWritten                         // a temp file holds its data and metadata
	evFileSynced                      // a temp file was fsynced on its own
	evFSSynced                        // the replica's file system was synced (syncfs)
	evRenamed                         // a temp file was renamed over its real name
	evDirSynced                       // a directory was fsynced ("" is the volume root)
	evFreeing                         // the old file a rename replaced is about to be freed
)

// finished is a verified temp file waiting to be made durable and renamed.
type finished struct {
	p  *filePlan
	id fileID   // the inode written; the temp name must still hold it just before the rename
	f  *os.File // open for its own fsync (files of syncAlone bytes or more); nil: flushed by syncfs
}

func (ff *finished) discard() {
	if ff.f != nil {
		ff.f.Close()
		ff.f = nil
	}
}

// committer makes finished files durable, renames them into place and
// reports them. Batches are flushed one at a time, in order; add blocks
// only while a full batch waits for the flush.
type committer struct {
	r         *receiver
	in        chan finished
	batches   chan []finished
	quit      chan struct{} // closed by stop (an abort or a failed flush)
	once      sync.Once
	done      chan struct{}
	mu        sync.Mutex
	err       error
	freeing   sync.WaitGroup // old files being freed (see holdOld)
	freeSlots chan struct{}  // one per old file being freed
}

// maxFreeing bounds the old files being freed at once, each with a
// descriptor and a goroutine; the renames wait for a slot.
const maxFreeing = 4

func (r *receiver) startCommitter() *committer {
	c := &committer{r: r, in: make(chan finished, 64), batches: make(chan []finished),
		quit: make(chan struct{}), done: make(chan struct{}), freeSlots: make(chan struct{}, maxFreeing)}
	go c.collect()
	go c.flushAll()
	return c
}

// add hands over a finished file. After an abort or a failed flush the
// file is left as a temp file (the next sync resumes it) and the flush's
// error, if any, is returned.
func (c *committer) add(ff finished) error {
	select {
	case c.in <- ff:
		return nil
	case <-c.quit:
		ff.discard()
		return c.failed()
	}
}

// finish waits until every file handed over is durable and reported (or,
// after stop, until the flush in progress ended) and returns the first
// flush error. No add may follow.
func (c *committer) finish() error {
	close(c.in)
	<-c.done
	c.freeing.Wait()
	return c.failed()
}

// stop ends the committer after the flush in progress, with err (nil: the
// caller has its own); files not flushed stay temp files, which the next
// sync resumes. Blocked and later adds return at once. finish must follow.
func (c *committer) stop(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.once.Do(func() { close(c.quit) })
}

func (c *committer) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// collect groups finished files into batches, handing the batch over
// whenever the flush is idle.
func (c *committer) collect() {
	defer close(c.batches)
	var batch []finished
	var size int64
	for {
		in, out := c.in, c.batches
		if len(batch) == 0 {
			out = nil
		}
		if len(batch) >= batchFiles || size >= batchBytes {
			in = nil
		}
		select {
		case ff, ok := <-in:
			if !ok {
				if len(batch) > 0 {
					select {
					case c.batches <- batch:
					case <-c.quit:
						discardAll(batch)
					}
				}
				return
			}
			batch = append(batch, ff)
			size += ff.p.en.Size
		case out <- batch:
			batch, size = nil, 0
		case <-c.quit:
			discardAll(batch)
			for ff := range c.in {
				ff.discard()
			}
			return
		}
	}
}

func discardAll(batch []finished) {
	for i := range batch {
		batch[i].discard()
	}
}

// flushAll flushes the batches in order until the first error.
func (c *committer) flushAll() {
	defer close(c.done)
	for batch := range c.batches {
		select {
		case <-c.quit:
			discardAll(batch)
			continue
		default:
		}
		if err := c.flush(batch); err != nil {
			discardAll(batch)
			c.stop(err)
			// The files it held never commit: planners must not wait
			// for their shares of the plan budget.
			c.r.stopPlanning()
		}
	}
}

// flush makes one batch durable: an fsync of each big file, one syncfs
// for the small ones, then per directory the renames and an fsync of the
// directory, and only then the files are reported.
func (c *committer) flush(batch []finished) error {
	r := c.r
	needFS := false
	for i := range batch {
		ff := &batch[i]
		if ff.f == nil {
			needFS = true
			continue
		}
		err := ff.f.Sync()
		ff.discard()
		if err != nil {
			return fmt.Errorf("fsync %s: %w", ff.p.tmp, err)
		}
		r.c.event(evFileSynced, ff.p.en.Path)
	}
	if needFS {
		if err := syncFS(r.root); err != nil {
			return err
		}
		r.c.event(evFSSynced, "")
	}
	slices.SortStableFunc(batch, func(a, b finished) int { return cmpTreeOrder(parentOf(a.p.en.Path), parentOf(b.p.en.Path)) })
	for len(batch) > 0 {
		dir := parentOf(batch[0].p.en.Path)
		n := 1
		for n < len(batch) && parentOf(batch[n].p.en.Path) == dir {
			n++
		}
		if err := c.placeIn(dir, batch[:n]); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

// placeIn renames durable temp files of one directory into place through
// one descriptor of it, fsyncs it and reports the files.
func (c *committer) placeIn(dir string, files []finished) error {
	r := c.r
	d, err := openDir(r.root, dirName(dir))
	if gone(err) { // the directory was replaced meanwhile: retry next pass
		for _, ff := range files {
			ff.p.share.release()
			r.markStale(ff.p.en.Path)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dirName(dir), err)
	}
	defer d.Close()
	fd := int(d.Fd())
	placed := files[:0]
	for _, ff := range files {
		tmp, target := path.Base(ff.p.tmp), path.Base(ff.p.en.Path)
		if !r.stillOurs(fd, ff) {
			ff.p.share.release()
			continue
		}
		old := c.holdOld(fd, target)
		err := unix.Renameat(fd, tmp, fd, target)
		c.release(old, ff.p.en.Path)
		ff.p.share.release() // its temp file is gone either way
		if err != nil {
			return fmt.Errorf("rename %s into place: %w", ff.p.en.Path, err)
		}
		r.c.event(evRenamed, ff.p.en.Path)
		placed = append(placed, ff)
	}
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dirName(dir), err)
	}
	r.c.event(evDirSynced, dir)
	for _, ff := range placed {
		// The file now holds exactly the indexed blocks: remember them so
		// the next change to it needs no local hashing.
		en := ff.p.en
		r.c.cache.put(r.cacheKey(en.Path), en.Size, en.ModTime, en.BlockSize, en.Blocks)
		r.synced(en.Path)
	}
	return nil
}

// holdOld pins the inode a rename is about to replace (an O_PATH
// descriptor: nothing is opened for reading, no fifo or device is
// touched), so the rename does not free its blocks itself; release frees
// them on another goroutine. Freeing a big file can take long (with the
// discard mount option every extent is trimmed then), and the next files
// need not wait for it, unless maxFreeing old files are being freed
// already. finish waits for it all. -1: nothing to hold.
func (c *committer) holdOld(dirfd int, name string) int {
	fd, err := unix.Openat(dirfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

// release frees the old file held by fd (p's), on a goroutine of its
// own once a slot is free.
func (c *committer) release(fd int, p string) {
	if fd < 0 {
		return
	}
	c.freeSlots <- struct{}{}
	c.freeing.Go(func() {
		c.r.c.event(evFreeing, p)
		unix.Close(fd)
		<-c.freeSlots
	})
}

// dirName is dir for openat: "." for the volume root.
func dirName(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

// stillOurs reports whether ff's temp name in the directory dirfd still
// holds the file that was written and verified. When it does not, the
// name is cleared, the file is left for the next pass and a warning is
// logged. The rename that follows goes by name, not by inode (Linux has
// no rename of a descriptor over an existing name): a process that can
// write the directory may still swap the name in between, which gives it
// nothing it could not do with a rename of its own.
func (r *receiver) stillOurs(dirfd int, ff finished) bool {
	var st unix.Stat_t
	err := unix.Fstatat(dirfd, path.Base(ff.p.tmp), &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == nil && (fileID{uint64(st.Dev), st.Ino}) == ff.id {
		return true
	}
	if err == nil {
		err = errors.New("another file has its name")
	}
	r.c.log.Warn("sync temp file was replaced before its rename; retrying", "volume", r.volume, "path", ff.p.en.Path, "err", err)
	r.root.RemoveAll(ff.p.tmp)
	r.markStale(ff.p.en.Path)
	return false
}
