package volsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// entriesBatch is the payload size at which an entries frame is sent.
const entriesBatch = 512 << 10

// handleIndex streams the index of a volume (or of some prefixes of it).
// The peer is authorized before anything else of the request is looked at,
// and the prefixes are capped before they are normalized.
func (ss *session) handleIndex(p []byte) error {
	d := dec{b: p}
	name := d.str(maxPathLen)
	n := d.u32()
	if d.err != nil {
		return d.err
	}
	root, err := ss.volume(name)
	if err != nil {
		return err
	}
	if n > maxPrefixes {
		return &requestError{codeInvalid, fmt.Sprintf("index request names %d paths; at most %d", n, maxPrefixes)}
	}
	raw := make([]string, 0, n)
	for range n {
		raw = append(raw, d.str(maxPathLen))
	}
	if err := d.done(); err != nil {
		return err
	}
	prefixes, err := normPrefixes(raw)
	if err != nil {
		return &requestError{codeInvalid, err.Error()}
	}
	entries, _, err := scanTree(root, prefixes)
	if err != nil {
		return &requestError{codeInternal, err.Error()}
	}
	entries = withAncestors(root, entries, prefixes)
	return ss.streamIndex(root, name, entries)
}

// withAncestors adds the directories above each prefix so the replica can
// create them and set their metadata.
func withAncestors(root *os.Root, entries []Entry, prefixes []string) []Entry {
	seen := map[string]bool{}
	for _, en := range entries {
		seen[en.Path] = true
	}
	for _, pre := range prefixes {
		for a := parentOf(pre); a != ""; a = parentOf(a) {
			if seen[a] {
				continue
			}
			seen[a] = true
			if en, ok, err := lstatEntry(root, a); err == nil && ok && en.Kind == KindDir {
				entries = append(entries, en)
			}
		}
	}
	sortEntries(entries)
	return entries
}

// streamIndex hashes files on all cores and sends entries in path order.
// Files are hashed in that order too, a big one in parts on every core
// (see hashJobs), and whenever the next entry is not hashed yet, the
// entries ready so far are sent at once: the replica starts on a big file
// as soon as it is hashed, not after the whole index.
func (ss *session) streamIndex(root *os.Root, volume string, entries []Entry) error {
	ctx, cancel := context.WithCancel(ss.ctx)
	defer cancel()
	done := make([]chan bool, len(entries))
	for i := range entries {
		if entries[i].Kind == KindFile {
			done[i] = make(chan bool, 1)
		}
	}
	jobs := make(chan hashJob)
	go ss.hashJobs(ctx, root, volume, entries, done, jobs)
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for j := range jobs {
				j.run()
			}
		}()
	}
	var e enc
	count, sent := uint32(0), uint32(0)
	flushed := true
	for i := range entries {
		if done[i] != nil {
			var ok bool
			select {
			case ok = <-done[i]:
			default: // about to wait: let the replica have what is ready
				if count > 0 {
					if err := ss.sendEntries(count, e.b); err != nil {
						return err
					}
					sent += count
					e.b, count, flushed = e.b[:0], 0, false
				}
				if !flushed {
					if err := ss.flush(); err != nil {
						return err
					}
					flushed = true
				}
				ok = <-done[i]
			}
			if !ok {
				continue
			}
		}
		encodeEntry(&e, &entries[i])
		count++
		if len(e.b) >= entriesBatch {
			if err := ss.sendEntries(count, e.b); err != nil {
				return err
			}
			sent += count
			e.b, count, flushed = e.b[:0], 0, false
		}
	}
	if count > 0 {
		if err := ss.sendEntries(count, e.b); err != nil {
			return err
		}
		sent += count
	}
	var end enc
	end.u32(sent)
	return ss.send(msgIndexEnd, end.b)
}

// hashJob hashes blocks [lo, hi) of one file; the last part to finish
// completes the entry.
type hashJob struct {
	fh     *fileHash
	lo, hi int
}

// fileHash is a file being hashed in parts.
type fileHash struct {
	ss     *session
	root   *os.Root
	volume string
	en     *Entry
	done   chan<- bool
	f      *os.File
	size   int64
	mtime  int64
	blocks []Hash
	left   atomic.Int32 // parts still running
	mu     sync.Mutex
	err    error
}

// hashJobs queues the files' hashing in path order (closing jobs at the
// end): a file the cache knows is done at once, any other is opened and
// split into parts. At most a few files are open at a time, as jobs
// blocks until a worker takes the part.
func (ss *session) hashJobs(ctx context.Context, root *os.Root, volume string, entries []Entry, done []chan bool, jobs chan<- hashJob) {
	defer close(jobs)
	for i := range entries {
		en := &entries[i]
		if done[i] == nil {
			continue
		}
		bs := BlockSizeFor(en.Size)
		if b, ok := ss.srv.cache.get(volume+"\x00"+en.Path, en.Size, en.ModTime, bs); ok { // the scan just lstat'ed it
			en.BlockSize, en.Blocks = bs, b
			done[i] <- true
			continue
		}
		f, info, err := openRegular(root, nil, en.Path, os.O_RDONLY)
		if err != nil { // gone or replaced meanwhile: the careful way
			done[i] <- ss.hashEntry(root, volume, en)
			continue
		}
		fh := &fileHash{ss: ss, root: root, volume: volume, en: en, done: done[i], f: f,
			size: info.Size(), mtime: info.ModTime().UnixNano()}
		bs = BlockSizeFor(fh.size)
		fh.blocks = make([]Hash, blockCount(fh.size, bs))
		parts := min(partsFor(fh.size), max(1, len(fh.blocks)))
		fh.left.Store(int32(parts))
		for k := range parts {
			select {
			case jobs <- hashJob{fh, k * len(fh.blocks) / parts, (k + 1) * len(fh.blocks) / parts}:
			case <-ctx.Done():
				if fh.left.Add(int32(k-parts)) == 0 {
					f.Close()
				}
				return
			}
		}
	}
}

func (j hashJob) run() {
	fh := j.fh
	bs := BlockSizeFor(fh.size)
	buf := getBuf(bs)
	for i := j.lo; i < j.hi; i++ {
		n := blockLen(fh.size, bs, i)
		if _, err := fh.f.ReadAt(buf[:n], int64(i)*int64(bs)); err != nil {
			fh.mu.Lock()
			fh.err = err
			fh.mu.Unlock()
			break
		}
		fh.blocks[i] = blockSum(buf[:n])
	}
	putBuf(buf)
	if fh.left.Add(-1) == 0 {
		fh.finish()
	}
}

// finish completes the entry once every part ran: a file that changed
// while it was read is hashed again the careful way (hashEntry).
func (fh *fileHash) finish() {
	fh.f.Close()
	if fh.err != nil {
		if !errors.Is(fh.err, io.EOF) {
			fh.ss.srv.log.Warn("sync cannot hash file; leaving it out", "volume", fh.volume, "path", fh.en.Path, "err", fh.err)
			fh.done <- false
			return
		}
		fh.done <- fh.ss.hashEntry(fh.root, fh.volume, fh.en)
		return
	}
	bs := BlockSizeFor(fh.size)
	fh.ss.srv.cache.put(fh.volume+"\x00"+fh.en.Path, fh.size, fh.mtime, bs, fh.blocks)
	fh.en.Size, fh.en.ModTime, fh.en.BlockSize, fh.en.Blocks = fh.size, fh.mtime, bs, fh.blocks
	fh.done <- true
}

func (ss *session) sendEntries(count uint32, body []byte) error {
	var h enc
	h.u32(count)
	return ss.send(msgEntries, h.b, body)
}

// hashEntry fills a file entry's hashes, retrying a file that changes while
// it is read. It returns false when the file should be left out.
func (ss *session) hashEntry(root *os.Root, volume string, en *Entry) bool {
	key := volume + "\x00" + en.Path
	for try := range 3 {
		var size, mtime int64
		var blocks []Hash
		var err error
		if try == 0 { // the scan just lstat'ed it
			size, mtime, blocks, err = ss.srv.cache.hashSeen(root, key, en.Path, 0, en.Size, en.ModTime)
		} else {
			size, mtime, blocks, err = ss.srv.cache.hashFile(root, key, en.Path, 0)
		}
		if err == nil {
			en.Size, en.ModTime, en.BlockSize, en.Blocks = size, mtime, BlockSizeFor(size), blocks
			return true
		}
		if !errors.Is(err, errChanged) {
			if !errors.Is(err, fs.ErrNotExist) {
				ss.srv.log.Warn("sync cannot hash file; leaving it out", "volume", volume, "path", en.Path, "err", err)
			}
			return false
		}
	}
	ss.srv.log.Warn("sync file keeps changing; leaving it out this time", "volume", volume, "path", en.Path)
	return false
}

// relPath turns a path reported by a change source into a volume-relative
// path; ok is false for paths outside dir.
func relPath(dir, p string) (string, bool) {
	if strings.HasPrefix(p, "/") {
		dir = strings.TrimSuffix(dir, "/")
		if p == dir {
			return "", true
		}
		if !strings.HasPrefix(p, dir+"/") {
			return "", false
		}
		p = p[len(dir)+1:]
	}
	p = strings.TrimPrefix(p, "./")
	if p == "" || p == "." {
		return "", true
	}
	return p, checkPath(p) == nil
}
