package volsync

import (
	"fmt"
	"hash"
	"path"
	"slices"
	"strings"

	"github.com/zeebo/blake3"
)

// Kind is the type of an index entry.
type Kind uint8

// Entry kinds. Other file types (devices, fifos, sockets) are not synced.
const (
	KindFile    Kind = 1
	KindDir     Kind = 2
	KindSymlink Kind = 3
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindFile:
		return "file"
	case KindDir:
		return "dir"
	case KindSymlink:
		return "symlink"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Hash is the BLAKE3-256 of one block (see blockSum).
type Hash [hashLen]byte

// hashLen is the length of a block hash on the wire.
const hashLen = 32

// blockSum is the hash of one block: BLAKE3 with a 256-bit output. Blocks
// are hashed on both sides of every sync (the primary's index, the
// replica's old copy, every block received), so the block hash is most of
// a sync's CPU; BLAKE3 hashes a 128-KiB block about twice as fast as
// SHA-256 with the SHA extensions on this project's machines (protocol
// version 3; version 2 used SHA-256). Sub-block sums stay truncated
// SHA-256 (appendSubSums): on 4 KiB, SHA-256 is the faster of the two.
func blockSum(b []byte) Hash { return blake3.Sum256(b) }

// newBlockHash returns a streaming hash whose Sum equals blockSum of the
// bytes written.
func newBlockHash() hash.Hash { return blake3.New() }

// Entry is one file, directory or symlink of a volume's index.
type Entry struct {
	// Path is slash-separated and relative to the volume root.
	Path string
	// Kind says whether the entry is a file, a directory or a symlink.
	Kind Kind
	// Mode holds the Unix permission bits plus setuid, setgid and sticky (0o7777).
	Mode uint32
	// UID and GID are the numeric owner, applied on the replica when it runs as root.
	UID, GID uint32
	// Size is the file size in bytes (0 for directories and symlinks).
	Size int64
	// ModTime is the modification time in nanoseconds since the Unix epoch.
	ModTime int64
	// Target is the symlink target, stored as is and never followed.
	Target string
	// BlockSize is the block size for files (see BlockSizeFor), 0 otherwise.
	BlockSize int
	// Blocks holds one hash per block (blockSum) of a file; the last block may be short.
	Blocks []Hash

	links uint64 // link count seen by a local scan; not on the wire
}

// Limits on decoded entries.
const (
	maxPathLen   = 4096
	maxNameLen   = 255 // bytes per path element, Linux's NAME_MAX
	maxTargetLen = 4096
	// maxPrefixes caps the paths of one INDEX request; a sync of more
	// paths falls back to the whole volume (see Client.Sync).
	maxPrefixes = 1024
	// InternalPrefix starts the names of Budgie's own temp files; entries
	// with this prefix are never synced.
	InternalPrefix = ".budgie-sync."
)

// blockTable maps file sizes to block sizes: a file smaller than Below uses
// Size. The last row is open-ended. Files keep at most ~2,048 blocks.
var blockTable = []struct {
	Below int64
	Size  int
}{
	{256 << 20, 128 << 10},
	{512 << 20, 256 << 10},
	{1 << 30, 512 << 10},
	{2 << 30, 1 << 20},
	{4 << 30, 2 << 20},
	{8 << 30, 4 << 20},
	{16 << 30, 8 << 20},
	{-1, 16 << 20},
}

// BlockSizeFor returns the block size used for a file of the given size.
func BlockSizeFor(size int64) int {
	for _, row := range blockTable {
		if row.Below < 0 || size < row.Below {
			return row.Size
		}
	}
	return blockTable[len(blockTable)-1].Size
}

// validBlockSize reports whether n is a size from the table.
func validBlockSize(n int) bool {
	for _, row := range blockTable {
		if row.Size == n {
			return true
		}
	}
	return false
}

// blockCount is the number of blocks of a file of size bytes.
func blockCount(size int64, bs int) int {
	return int((size + int64(bs) - 1) / int64(bs))
}

// blockLen is the length of block i of a file of size bytes.
func blockLen(size int64, bs, i int) int {
	off := int64(i) * int64(bs)
	return int(min(int64(bs), size-off))
}

// internalName reports whether a path element is one of Budgie's own names.
func internalName(name string) bool { return strings.HasPrefix(name, InternalPrefix) }

// checkPath validates a relative, slash-separated entry path by its
// structure alone: names are bytes, as on Linux, and need not be UTF-8. The
// path is at most maxPathLen bytes; every element is non-empty, not "." or
// "..", at most maxNameLen bytes and not one of Budgie's internal names;
// there is no NUL and no leading or trailing slash.
func checkPath(p string) error {
	if len(p) > maxPathLen {
		return fmt.Errorf("path of %d bytes is too long (at most %d)", len(p), maxPathLen)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("path %q contains a NUL byte", p)
	}
	for rest := p; ; {
		el, tail, more := strings.Cut(rest, "/")
		switch {
		case el == "" || el == "." || el == "..":
			return fmt.Errorf("path %q is not a clean relative path", p)
		case len(el) > maxNameLen:
			return fmt.Errorf("path %q has an element of %d bytes (at most %d)", p, len(el), maxNameLen)
		case internalName(el):
			return fmt.Errorf("path %q uses the internal prefix %s", p, InternalPrefix)
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

// encodeEntry appends one entry to e.
func encodeEntry(e *enc, en *Entry) {
	e.str(en.Path)
	e.u8(byte(en.Kind))
	e.u32(en.Mode)
	e.u32(en.UID)
	e.u32(en.GID)
	e.u64(uint64(en.Size))
	e.u64(uint64(en.ModTime))
	e.str(en.Target)
	e.u32(uint32(en.BlockSize))
	e.u32(uint32(len(en.Blocks)))
	for i := range en.Blocks {
		e.raw(en.Blocks[i][:])
	}
}

// decodeEntry reads and validates one entry.
func decodeEntry(d *dec) (Entry, error) {
	var en Entry
	en.Path = d.str(maxPathLen)
	en.Kind = Kind(d.u8())
	en.Mode = d.u32()
	en.UID = d.u32()
	en.GID = d.u32()
	en.Size = int64(d.u64())
	en.ModTime = int64(d.u64())
	en.Target = d.str(maxTargetLen)
	en.BlockSize = int(d.u32())
	n := d.u32()
	if d.err != nil {
		return en, d.err
	}
	if uint64(n)*hashLen > uint64(len(d.b)) {
		return en, protoErr("entry %q claims %d blocks, more than the message holds", en.Path, n)
	}
	if n > 0 {
		en.Blocks = make([]Hash, n)
		for i := range en.Blocks {
			copy(en.Blocks[i][:], d.take(hashLen))
		}
	}
	if err := checkEntry(&en); err != nil {
		return en, protoErr("%v", err)
	}
	return en, nil
}

// checkEntry validates the fields of a decoded entry.
func checkEntry(en *Entry) error {
	if err := checkPath(en.Path); err != nil {
		return err
	}
	if en.Mode&^0o7777 != 0 {
		return fmt.Errorf("entry %q has mode bits 0%o outside 07777", en.Path, en.Mode)
	}
	switch en.Kind {
	case KindFile:
		if en.Size < 0 || !validBlockSize(en.BlockSize) || en.BlockSize != BlockSizeFor(en.Size) {
			return fmt.Errorf("file %q has size %d and block size %d, which do not match the table", en.Path, en.Size, en.BlockSize)
		}
		if len(en.Blocks) != blockCount(en.Size, en.BlockSize) {
			return fmt.Errorf("file %q has %d block hashes, want %d", en.Path, len(en.Blocks), blockCount(en.Size, en.BlockSize))
		}
		if en.Target != "" {
			return fmt.Errorf("file %q has a symlink target", en.Path)
		}
	case KindDir, KindSymlink:
		if en.Size != 0 || en.BlockSize != 0 || len(en.Blocks) != 0 {
			return fmt.Errorf("%s %q carries file data", en.Kind, en.Path)
		}
		if (en.Kind == KindSymlink) != (en.Target != "") || strings.ContainsRune(en.Target, 0) {
			return fmt.Errorf("%s %q has a bad symlink target", en.Kind, en.Path)
		}
	default:
		return fmt.Errorf("entry %q has unknown kind %d", en.Path, en.Kind)
	}
	return nil
}

// decodeEntries reads a msgEntries payload: a count and that many entries.
func decodeEntries(p []byte) ([]Entry, error) {
	d := dec{b: p}
	n := d.u32()
	if d.err != nil {
		return nil, d.err
	}
	// The smallest entry is 45 bytes; refuse counts the payload cannot hold.
	if uint64(n)*45 > uint64(len(d.b)) {
		return nil, protoErr("entries message claims %d entries in %d bytes", n, len(d.b))
	}
	out := make([]Entry, 0, n)
	for range n {
		en, err := decodeEntry(&d)
		if err != nil {
			return nil, err
		}
		out = append(out, en)
	}
	return out, d.done()
}

// underPrefix reports whether p is prefix or lies beneath it ("" is the root).
func underPrefix(p, prefix string) bool {
	return prefix == "" || p == prefix || strings.HasPrefix(p, prefix+"/")
}

// normPrefixes cleans a list of prefixes: "" or "." anywhere means the
// whole volume (returns nil); duplicates and prefixes nested in another
// collapse into the outer one. It sorts and sweeps: O(n log n).
func normPrefixes(ps []string) ([]string, error) {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if p == "" || p == "." {
			return nil, nil
		}
		if err := checkPath(p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	// In tree order a prefix comes right before everything under it, so
	// one look at the last kept prefix finds every nested one.
	slices.SortFunc(out, cmpTreeOrder)
	kept := out[:0]
	for _, p := range out {
		if len(kept) > 0 && underPrefix(p, kept[len(kept)-1]) {
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		return nil, nil
	}
	return slices.Clip(kept), nil
}

// cmpTreeOrder compares paths element by element ('/' sorts before every
// other byte), so a directory's subtree follows it without a gap.
func cmpTreeOrder(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return 1
		}
		return int(ca) - int(cb)
	}
	return len(a) - len(b)
}

// parentOf returns the parent path of p, "" for top-level entries.
func parentOf(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}

// sortEntries sorts entries by path; a parent always sorts before its children.
func sortEntries(entries []Entry) {
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
}
