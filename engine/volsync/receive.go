package volsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// SyncOptions configures one Sync.
type SyncOptions struct {
	// Progress, when set, is called as bytes land and as files are made
	// durable; the calls come from more than one goroutine but never
	// overlap.
	Progress func(Progress)
	// DryRun computes what would be transferred and deleted without
	// writing anything; Stats then counts what a real sync would do.
	DryRun bool
	// Paths limits the sync to these volume-relative paths and everything
	// under them; nil syncs the whole volume.
	Paths []string
}

// Progress reports how far a Sync is. Totals cover the files whose content
// is being transferred.
type Progress struct {
	// BytesDone counts file data received or copied so far.
	BytesDone, BytesTotal int64
	// FilesDone counts files that are durable under their real name: data
	// on disk, renamed into place, directory fsynced (a crash keeps them).
	FilesDone, FilesTotal int
	// Path is the file that just became durable; empty when only bytes
	// moved on.
	Path string
}

// Stats counts what one Sync did.
type Stats struct {
	// BytesSent and BytesReceived count frames on the wire (headers and
	// payloads, before TLS).
	BytesSent, BytesReceived int64
	// IndexBytes is the part of BytesReceived that carried the index.
	IndexBytes int64
	// BlocksRequested were fetched from the primary, whole or in part;
	// BlocksReused were taken from the old local file or from an
	// interrupted temp file.
	BlocksRequested, BlocksReused int64
	// BlocksPatched is the part of BlocksRequested rebuilt from the old
	// local copy at the same offset plus only the sub-blocks that differ.
	BlocksPatched int64
	// BytesFetched is the file data requested (for DryRun: an upper
	// bound, as a dry run asks for no sub-block sums).
	BytesFetched int64
	// Entries is the number of index entries compared.
	Entries int
	// FilesTransferred had new content, now durable under their real
	// names; FilesDeleted were removed; MetaUpdated only had mode, owner or
	// times fixed.
	FilesTransferred, FilesDeleted, MetaUpdated int
	// Stale counts files that changed on the primary during the sync and
	// were left for the next one.
	Stale int
	// Duration is the wall time of the sync.
	Duration time.Duration
}

// maxPasses bounds the re-syncs of files that changed during a sync.
const maxPasses = 3

// Sync makes localDir a copy of the primary's volume: changed files are
// replaced through verified temp files, missing ones created, and entries
// that are not on the primary deleted. localDir is created when missing.
func (c *Client) Sync(ctx context.Context, volume, localDir string, opts SyncOptions) (Stats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.syncLocked(ctx, volume, localDir, opts)
}

func (c *Client) syncLocked(ctx context.Context, volume, localDir string, opts SyncOptions) (Stats, error) {
	if err := c.usable(); err != nil {
		return Stats{}, err
	}
	prefixes, err := normPrefixes(opts.Paths)
	if err != nil {
		return Stats{}, fmt.Errorf("sync paths: %w: %w", errdefs.ErrInvalid, err)
	}
	if len(prefixes) > maxPrefixes {
		return Stats{}, fmt.Errorf("sync paths: %d paths, at most %d (sync their parent or the whole volume): %w", len(prefixes), maxPrefixes, errdefs.ErrInvalid)
	}
	start, sent0, recv0 := time.Now(), c.fw.bytes, c.fr.bytes
	stop := c.watch(ctx)
	defer stop()
	var st Stats
	for pass := 0; ; pass++ {
		stale, err := c.pass(ctx, volume, localDir, prefixes, opts, &st)
		if err == nil && len(stale) > 0 && pass+1 < maxPasses && !opts.DryRun {
			if again, nerr := normPrefixes(stale); nerr == nil && len(again) <= maxPrefixes {
				prefixes = again
			} // else: the same paths again, which cover every stale one
			continue
		}
		if errors.Is(err, ErrProtocol) {
			c.log.Warn("sync rejected data from the primary", "volume", volume, "err", err)
		}
		st.Stale = len(stale)
		st.BytesSent, st.BytesReceived = c.fw.bytes-sent0, c.fr.bytes-recv0
		st.Duration = time.Since(start)
		return st, c.done(ctx, err)
	}
}

// pass runs one index-diff-transfer round and returns the stale paths.
// While the index streams in, files whose old copy lies at their own
// path are planned already (see early.go).
func (c *Client) pass(ctx context.Context, volume, localDir string, prefixes []string, opts SyncOptions, st *Stats) ([]string, error) {
	r := &receiver{c: c, ctx: ctx, volume: volume, opts: opts, st: st,
		budget: newPlanBudget(c.planBudget), quit: make(chan struct{}), made: map[*filePlan]bool{}}
	r.unwatch = context.AfterFunc(ctx, r.stopPlanning)
	if !opts.DryRun {
		r.kick = startKicker()
		r.early = &earlyPlans{r: r, localDir: localDir, prefixes: prefixes}
	}
	defer r.close()
	var each func([]Entry) error
	if r.early != nil {
		each = r.early.offer
	}
	remote, ib, err := c.index(volume, prefixes, each)
	st.IndexBytes += ib
	if err != nil {
		return nil, err
	}
	st.Entries += len(remote)
	if r.root == nil { // no entries came, or a dry run
		if r.root, err = openLocal(localDir, opts.DryRun); err != nil {
			return nil, err
		}
	}
	if err := r.diff(remote, prefixes); err != nil {
		return nil, err
	}
	return r.apply()
}

// close stops and waits for the planners, deletes the temp files they
// made that the stream never took over (see madeTemp) and releases the
// pass's resources.
func (r *receiver) close() {
	r.unwatch()
	r.stopPlanning()
	r.early.abort()
	r.dropMadeTemps()
	if r.kick != nil {
		r.kick.stop()
	}
	if r.root != nil {
		r.root.Close()
	}
}

// openLocal opens (and creates) the replica directory; a dry run of a
// missing directory gets a nil root.
func openLocal(dir string, dry bool) (*os.Root, error) {
	if !dry {
		if err := makeReplicaDir(dir); err != nil {
			return nil, err
		}
	}
	root, err := os.OpenRoot(dir)
	if dry && errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open replica directory: %w", err)
	}
	return root, nil
}

// makeReplicaDir creates dir and its missing parents, and fsyncs the
// directory above each one it created, so files reported synced in it
// cannot lose their path in a crash.
func makeReplicaDir(dir string) error {
	var made []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		made = append(made, d)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create replica directory: %w", err)
	}
	for _, d := range made {
		parent, err := os.Open(filepath.Dir(d))
		if err != nil {
			return fmt.Errorf("create replica directory: %w", err)
		}
		err = parent.Sync()
		parent.Close()
		if err != nil {
			return fmt.Errorf("create replica directory: fsync %s: %w", filepath.Dir(d), err)
		}
	}
	return nil
}

// receiver holds the state of one sync pass.
type receiver struct {
	c      *Client
	ctx    context.Context
	root   *os.Root // nil for a dry run into a missing directory
	volume string
	opts   SyncOptions
	st     *Stats

	local     map[string]Entry
	conflicts []string          // local entries of the wrong kind, removed first
	dirs      []*Entry          // remote directories, for metadata at the end
	links     []*Entry          // symlinks to create or replace
	meta      []*Entry          // files whose content is current but metadata is not
	files     []*Entry          // files to transfer
	deletes   []string          // local paths not on the primary
	temps     map[string]string // target path → temp path found locally
	basis     map[string]string // target path → local file with old content
	kick      *kicker           // starts writeback of temp files; nil for a dry run
	early     *earlyPlans       // nil for a dry run

	budget   *gate         // plan budget: files planned with an old copy, not yet committed
	quit     chan struct{} // closed when planning is to stop: the transfer failed or ended, or ctx did
	quitOnce sync.Once
	unwatch  func() bool // stops closing quit when ctx ends
	madeMu   sync.Mutex
	made     map[*filePlan]bool // plans whose temp file the planners created, not yet streamed

	applyState
}

// diff compares the remote index with the local tree.
func (r *receiver) diff(remote []Entry, prefixes []string) error {
	r.local, r.temps, r.basis = map[string]Entry{}, map[string]string{}, map[string]string{}
	var temps []string
	if r.root != nil {
		entries, t, ok := r.early.scanned()
		if !ok {
			var err error
			if entries, t, err = scanLocal(r.root, prefixes); err != nil {
				return fmt.Errorf("scan replica: %w", err)
			}
		}
		temps = t
		for _, en := range entries {
			r.local[en.Path] = en
		}
	}
	want := make(map[string]bool, len(remote))
	for i := range remote {
		want[remote[i].Path] = true
		r.classify(&remote[i])
	}
	// Only a file to transfer keeps its temp file (to resume it); any
	// other temp file, even one of a file already current, is deleted.
	tempOf := make(map[string]string, len(r.files))
	for _, en := range r.files {
		tempOf[tempPath(en.Path)] = en.Path
	}
	for p := range r.local {
		if !want[p] {
			r.deletes = append(r.deletes, p)
		}
	}
	slices.Sort(r.deletes)
	for _, t := range temps {
		if target, ok := tempOf[t]; ok {
			r.temps[target] = t
		} else {
			r.deletes = append(r.deletes, t)
		}
	}
	r.findRenames()
	return nil
}

// classify decides what to do with one remote entry.
func (r *receiver) classify(en *Entry) {
	loc, ok := r.local[en.Path]
	if ok && loc.Kind != en.Kind {
		r.conflicts = append(r.conflicts, en.Path)
		ok = false
	}
	switch en.Kind {
	case KindDir:
		r.dirs = append(r.dirs, en)
	case KindSymlink:
		if !ok || loc.Target != en.Target || loc.ModTime != en.ModTime || !sameOwner(loc, en) {
			r.links = append(r.links, en)
		}
	case KindFile:
		// A local file with more than one link may be a hard link to a
		// host file: it is replaced, never changed in place or read.
		shared := ok && loc.links > 1
		switch {
		case !ok || shared || loc.Size != en.Size || loc.ModTime != en.ModTime:
			if ok && !shared {
				r.basis[en.Path] = en.Path
			}
			r.files = append(r.files, en)
		case loc.Mode != en.Mode || !sameOwner(loc, en):
			r.meta = append(r.meta, en)
		}
	}
}

// sameOwner compares owners only when this process could change them.
func sameOwner(a Entry, b *Entry) bool {
	return os.Geteuid() != 0 || a.UID == b.UID && a.GID == b.GID
}

// findRenames gives a new file with no local copy a basis: a local file
// about to be deleted with the same size and mtime (a rename on the primary).
func (r *receiver) findRenames() {
	type key struct{ size, mtime int64 }
	gone := map[key]string{}
	for _, p := range r.deletes {
		if en, ok := r.local[p]; ok && en.Kind == KindFile && en.Size > 0 && en.links == 1 {
			gone[key{en.Size, en.ModTime}] = p
		}
	}
	for _, en := range r.files {
		if _, ok := r.basis[en.Path]; ok {
			continue
		}
		if p, ok := gone[key{en.Size, en.ModTime}]; ok {
			r.basis[en.Path] = p
		}
	}
}

// scanLocal scans the replica under the prefixes, skipping a prefix whose
// ancestors are not all real directories (nothing of ours lies there).
func scanLocal(root *os.Root, prefixes []string) ([]Entry, []string, error) {
	if prefixes == nil {
		return scanTree(root, nil)
	}
	var ok []string
	for _, pre := range prefixes {
		if ancestorsAreDirs(root, pre) {
			ok = append(ok, pre)
		}
	}
	if len(ok) == 0 {
		return nil, nil, nil
	}
	entries, temps, err := scanTree(root, ok)
	if err != nil {
		return nil, nil, err
	}
	// Temp names beside a prefix belong to it too, whatever they hold.
	for _, pre := range ok {
		t := tempPath(pre)
		if _, err := root.Lstat(t); err == nil {
			temps = append(temps, t)
		}
	}
	return entries, temps, nil
}

func ancestorsAreDirs(root *os.Root, p string) bool {
	for a := parentOf(p); a != ""; a = parentOf(a) {
		info, err := root.Lstat(a)
		if err != nil || !info.IsDir() {
			return false
		}
	}
	return true
}

// tempPath is the temp file used while writing p. Long names are replaced
// by a hash so the temp name stays within NAME_MAX.
func tempPath(p string) string {
	dir, name := path.Split(p)
	if len(name) > 200 {
		sum := sha256.Sum256([]byte(name))
		name = hex.EncodeToString(sum[:16])
	}
	return dir + InternalPrefix + name + ".tmp"
}
