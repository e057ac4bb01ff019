package volsync

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sync"
	"syscall"
)

// errChanged says a file changed while it was being read.
var errChanged = errors.New("file changed while it was read")

// entryFromInfo fills an entry's metadata from an lstat result. It returns
// false for file types that are not synced.
func entryFromInfo(p string, info fs.FileInfo) (Entry, bool) {
	en := Entry{Path: p, ModTime: info.ModTime().UnixNano()}
	m := info.Mode()
	en.Mode = uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		en.Mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		en.Mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		en.Mode |= 0o1000
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		en.UID, en.GID, en.links = st.Uid, st.Gid, uint64(st.Nlink)
	}
	switch {
	case m.IsRegular():
		en.Kind, en.Size, en.BlockSize = KindFile, info.Size(), BlockSizeFor(info.Size())
	case m.IsDir():
		en.Kind = KindDir
	case m&fs.ModeSymlink != 0:
		en.Kind = KindSymlink
	default:
		return en, false
	}
	return en, true
}

// goMode converts wire mode bits into an fs.FileMode.
func goMode(bits uint32) fs.FileMode {
	m := fs.FileMode(bits & 0o777)
	if bits&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if bits&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if bits&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// lstatEntry returns the entry at p inside root, or ok=false when p does
// not exist or is not a syncable type.
func lstatEntry(root *os.Root, p string) (Entry, bool, error) {
	info, err := root.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, err
	}
	en, ok := entryFromInfo(p, info)
	if ok && en.Kind == KindSymlink {
		if en.Target, err = root.Readlink(p); err != nil {
			return en, false, err
		}
	}
	return en, ok, nil
}

// scanTree lists the entries under each prefix (all of root when prefixes
// is nil) with metadata but no hashes, sorted by path. Internal temp names
// (of any type) are returned separately. Paths the protocol cannot carry
// (see checkPath) are left out with everything below them.
func scanTree(root *os.Root, prefixes []string) (entries []Entry, temps []string, err error) {
	if prefixes == nil {
		prefixes = []string{"."}
	}
	for _, pre := range prefixes {
		if pre != "." {
			en, ok, err := lstatEntry(root, pre)
			if err != nil || !ok {
				if err != nil && !isNotDir(err) {
					return nil, nil, err
				}
				continue
			}
			entries = append(entries, en)
			if en.Kind != KindDir {
				continue
			}
		}
		err := walkDir(root, pre, func(p string, info fs.FileInfo) error {
			if internalName(path.Base(p)) {
				temps = append(temps, p)
				return fs.SkipDir
			}
			if checkPath(p) != nil {
				return fs.SkipDir
			}
			return scanEntry(root, p, info, &entries)
		})
		if err != nil && !(pre != "." && gone(err)) {
			return nil, nil, fmt.Errorf("scan %s: %w", pre, err)
		}
	}
	sortEntries(entries)
	return entries, temps, nil
}

// scanEntry appends the entry for p to entries when its type is synced.
func scanEntry(root *os.Root, p string, info fs.FileInfo, entries *[]Entry) error {
	en, ok := entryFromInfo(p, info)
	if !ok {
		return nil
	}
	if en.Kind == KindSymlink {
		var err error
		if en.Target, err = root.Readlink(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // gone meanwhile
			}
			return err
		}
	}
	*entries = append(*entries, en)
	return nil
}

func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }

// hashFile hashes the regular file p in bs-sized blocks. It returns the
// size and mtime read from the open file with the hashes; a file that
// shrinks while it is read, or is no longer a regular file, gives
// errChanged.
func hashFile(root *os.Root, p string, bs int) (size, mtime int64, blocks []Hash, err error) {
	f, info, err := openRegular(root, nil, p, os.O_RDONLY)
	if errors.Is(err, errNotRegular) {
		return 0, 0, nil, errChanged
	}
	if err != nil {
		return 0, 0, nil, err
	}
	defer f.Close()
	size, mtime = info.Size(), info.ModTime().UnixNano()
	if bs == 0 {
		bs = BlockSizeFor(size)
	}
	blocks, err = hashReader(f, size, bs)
	return size, mtime, blocks, err
}

// hashReader hashes the first size bytes of f in bs-sized blocks; a big
// file in several parts at once (see inParts).
func hashReader(f io.ReaderAt, size int64, bs int) ([]Hash, error) {
	blocks := make([]Hash, blockCount(size, bs))
	var mu sync.Mutex
	firstErr, errAt := error(nil), len(blocks)
	inParts(len(blocks), partsFor(size), func(lo, hi int) {
		buf := getBuf(bs)
		defer putBuf(buf)
		for i := lo; i < hi; i++ {
			n := blockLen(size, bs, i)
			if _, err := f.ReadAt(buf[:n], int64(i)*int64(bs)); err != nil {
				mu.Lock()
				if i < errAt {
					firstErr, errAt = err, i
				}
				mu.Unlock()
				return
			}
			blocks[i] = blockSum(buf[:n])
		}
	})
	if firstErr != nil {
		if errors.Is(firstErr, io.EOF) || errors.Is(firstErr, io.ErrUnexpectedEOF) {
			return blocks[:errAt], errChanged
		}
		return nil, firstErr
	}
	return blocks, nil
}

// partsMin is the file size from which a file's blocks are hashed in
// several parts at once: a single big changed file then uses every core.
const partsMin = 32 << 20

// partsFor is the number of parts a file of size bytes is hashed in.
func partsFor(size int64) int {
	if size < partsMin {
		return 1
	}
	return max(1, min(runtime.GOMAXPROCS(0), int(size/(partsMin/2))))
}

// inParts calls fn for parts contiguous ranges [lo, hi) of n blocks, on
// a goroutine each when there are several, and waits for them.
func inParts(n, parts int, fn func(lo, hi int)) {
	if parts <= 1 || n < parts {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := range parts {
		lo, hi := k*n/parts, (k+1)*n/parts
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// bufPool recycles block buffers by size.
var bufPool sync.Map // int → *sync.Pool

func getBuf(n int) []byte {
	p, _ := bufPool.LoadOrStore(n, &sync.Pool{New: func() any { b := make([]byte, n); return &b }})
	return *(p.(*sync.Pool).Get().(*[]byte))
}

func putBuf(b []byte) {
	if p, ok := bufPool.Load(len(b)); ok {
		p.(*sync.Pool).Put(&b)
	}
}

// hashCache remembers block hashes by path, size, mtime and block size so a
// re-scan of an unchanged file does no hashing.
type hashCache struct {
	mu sync.Mutex
	m  map[string]cachedHashes
}

type cachedHashes struct {
	size, mtime int64
	bs          int
	blocks      []Hash
}

func (c *hashCache) get(key string, size, mtime int64, bs int) ([]Hash, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.m[key]
	if !ok || h.size != size || h.mtime != mtime || h.bs != bs {
		return nil, false
	}
	return h.blocks, true
}

func (c *hashCache) put(key string, size, mtime int64, bs int, blocks []Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedHashes{}
	}
	c.m[key] = cachedHashes{size: size, mtime: mtime, bs: bs, blocks: blocks}
}

func (c *hashCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// hashFile hashes p, using and filling the cache under key.
func (c *hashCache) hashFile(root *os.Root, key, p string, bs int) (size, mtime int64, blocks []Hash, err error) {
	info, err := root.Lstat(p)
	if err != nil {
		return 0, 0, nil, err
	}
	if !info.Mode().IsRegular() {
		return 0, 0, nil, errChanged
	}
	return c.hashSeen(root, key, p, bs, info.Size(), info.ModTime().UnixNano())
}

// hashSeen is hashFile for a regular file whose size and mtime were just
// read (by a scan): a cache hit costs no system call.
func (c *hashCache) hashSeen(root *os.Root, key, p string, bs int, seenSize, seenMtime int64) (size, mtime int64, blocks []Hash, err error) {
	if bs == 0 {
		bs = BlockSizeFor(seenSize)
	}
	if b, ok := c.get(key, seenSize, seenMtime, bs); ok {
		return seenSize, seenMtime, b, nil
	}
	size, mtime, blocks, err = hashFile(root, p, bs)
	if err == nil {
		c.put(key, size, mtime, bs, blocks)
	}
	return size, mtime, blocks, err
}
