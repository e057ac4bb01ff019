package volsync

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// receiver fields used while applying (kept apart from the diff state).
// During the transfer the stream reader, the writers and the committer
// share them: mu guards them and serializes the progress callback.
type applyState struct {
	mu         sync.Mutex
	stale      []string
	bytesDone  int64
	bytesTotal int64
	filesDone  int
}

// markStale leaves path for the next pass.
func (r *receiver) markStale(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stale = append(r.stale, path)
}

// landed counts n bytes of file data in place (fetched, copied or kept)
// and reports progress.
func (r *receiver) landed(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bytesDone += n
	r.reportLocked("")
}

// synced counts a file that is durable under its real name (see
// committer) and reports it.
func (r *receiver) synced(path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.filesDone++
	r.st.FilesTransferred++
	r.reportLocked(path)
}

// reportLocked calls the progress callback; r.mu is held, so calls never
// overlap.
func (r *receiver) reportLocked(path string) {
	if r.opts.Progress == nil {
		return
	}
	r.opts.Progress(Progress{BytesDone: r.bytesDone, BytesTotal: r.bytesTotal, FilesDone: r.filesDone, FilesTotal: len(r.files), Path: path})
}

// apply carries out the diff: removes entries of the wrong kind, creates
// directories and symlinks, transfers files, deletes what the primary no
// longer has and finally sets directory metadata. It returns stale paths.
func (r *receiver) apply() ([]string, error) {
	for _, en := range r.files {
		r.bytesTotal += en.Size
	}
	if r.opts.DryRun {
		return nil, r.dryRun()
	}
	for _, p := range r.conflicts {
		if err := r.root.RemoveAll(p); err != nil {
			return nil, fmt.Errorf("remove %s to replace it: %w", p, err)
		}
	}
	if err := r.makeDirs(); err != nil {
		return nil, err
	}
	for _, en := range r.links {
		if err := r.placeLink(en); err != nil {
			return nil, r.rejected(en.Path, err)
		}
	}
	for _, en := range r.meta {
		if err := r.setMeta(en, true); err != nil {
			return nil, err
		}
		r.st.MetaUpdated++
	}
	if err := r.transfer(); err != nil {
		return nil, r.rejected("", err)
	}
	if err := r.deleteGone(); err != nil {
		return nil, err
	}
	for _, en := range slices.Backward(r.dirs) {
		if err := r.setMeta(en, false); err != nil {
			return nil, err
		}
	}
	return r.stale, nil
}

// makeDirs creates the directories of the index that are missing and
// makes their names durable (an fsync of each parent that gained one), so
// a file reported synced inside a new directory cannot lose its path.
func (r *receiver) makeDirs() error {
	parents := map[string]bool{}
	for _, en := range r.dirs {
		if err := r.root.MkdirAll(en.Path, 0o755); err != nil {
			return r.rejected(en.Path, fmt.Errorf("create directory %s: %w", en.Path, err))
		}
		if loc, ok := r.local[en.Path]; !ok || loc.Kind != KindDir {
			parents[parentOf(en.Path)] = true
		}
	}
	for _, d := range slices.Sorted(maps.Keys(parents)) {
		if err := syncDir(r.root, d); err != nil {
			return err
		}
		r.c.event(evDirSynced, d)
	}
	return nil
}

// rejected logs an error that may come from a hostile index (a path that
// os.Root refused) and returns it.
func (r *receiver) rejected(p string, err error) error {
	if isEscape(err) {
		r.c.log.Warn("sync refused a path that leaves the volume", "volume", r.volume, "path", p, "err", err)
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return err
}

// isEscape reports errors os.Root gives for paths that leave the root.
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// dryRun counts what a real sync would do.
func (r *receiver) dryRun() error {
	for _, en := range r.files {
		p := r.plan(en)
		r.st.BlocksReused += int64(len(p.copy))
		for _, ok := range p.have {
			if ok {
				r.st.BlocksReused++
			}
		}
		for _, i := range append(p.fetch, p.cands...) {
			r.st.BlocksRequested++
			r.st.BytesFetched += int64(blockLen(en.Size, en.BlockSize, i))
		}
		r.st.FilesTransferred++
	}
	for _, p := range r.deletes {
		if !internalName(path.Base(p)) {
			r.st.FilesDeleted++
		}
	}
	r.st.MetaUpdated = len(r.meta)
	return nil
}

// placeLink creates or replaces a symlink, through a temp name when one
// exists already, and sets its owner and times without following it.
func (r *receiver) placeLink(en *Entry) error {
	tmp := tempPath(en.Path)
	r.root.RemoveAll(tmp) // whatever a container left under the name
	if err := r.root.Symlink(en.Target, tmp); err != nil {
		return fmt.Errorf("create symlink %s: %w", en.Path, err)
	}
	if os.Geteuid() == 0 {
		if err := r.root.Lchown(tmp, int(en.UID), int(en.GID)); err != nil {
			return fmt.Errorf("chown symlink %s: %w", en.Path, err)
		}
	}
	if err := r.lutimes(tmp, en.ModTime); err != nil {
		return err
	}
	if err := r.root.Rename(tmp, en.Path); err != nil {
		return fmt.Errorf("rename symlink %s into place: %w", en.Path, err)
	}
	return nil
}

// lutimes sets the times of p without following a symlink, through a
// descriptor of its parent opened inside the root.
func (r *receiver) lutimes(p string, mtime int64) error {
	dir := parentOf(p)
	if dir == "" {
		dir = "."
	}
	d, err := openDir(r.root, dir)
	if err != nil {
		return fmt.Errorf("open directory of %s: %w", p, err)
	}
	defer d.Close()
	ts := []unix.Timespec{unix.NsecToTimespec(mtime), unix.NsecToTimespec(mtime)}
	if err := unix.UtimesNanoAt(int(d.Fd()), path.Base(p), ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", p, err)
	}
	return nil
}

// setMeta sets mode, owner and (for directories) times of an entry,
// through a descriptor opened without following a symlink or blocking. A
// file is changed only while it has one link (a hard link could lead to a
// host file); one that is not what the scan saw any more is left for the
// next pass.
func (r *receiver) setMeta(en *Entry, file bool) error {
	f, err := r.openForMeta(en.Path, file)
	if errors.Is(err, fs.ErrPermission) && os.Geteuid() != 0 {
		// Not root: a mode without read permission cannot be opened, and
		// no hard link could lead to a file this process may not change.
		return r.root.Chmod(en.Path, goMode(en.Mode))
	}
	if gone(err) {
		r.markStale(en.Path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("set metadata of %s: %w", en.Path, err)
	}
	defer f.Close()
	if os.Geteuid() == 0 {
		if err := f.Chown(int(en.UID), int(en.GID)); err != nil {
			return fmt.Errorf("chown %s: %w", en.Path, err)
		}
	}
	if err := f.Chmod(goMode(en.Mode)); err != nil {
		return fmt.Errorf("chmod %s: %w", en.Path, err)
	}
	if file {
		return nil
	}
	return setTimes(f, en.ModTime)
}

// openForMeta opens a file (singly linked) or a directory to change its
// metadata.
func (r *receiver) openForMeta(p string, file bool) (*os.File, error) {
	if !file {
		return openDir(r.root, p)
	}
	f, info, err := openRegular(r.root, nil, p, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	if linksOf(info) != 1 {
		f.Close()
		return nil, fmt.Errorf("%s has %d links: %w", p, linksOf(info), errNotRegular)
	}
	return f, nil
}

// deleteGone removes local entries the primary does not have, deepest
// first, and stale temp files.
func (r *receiver) deleteGone() error {
	dirs := map[string]bool{}
	for _, p := range slices.Backward(r.deletes) {
		if err := r.root.RemoveAll(p); err != nil {
			return fmt.Errorf("delete %s: %w", p, err)
		}
		if !internalName(path.Base(p)) {
			r.st.FilesDeleted++
		}
		dirs[parentOf(p)] = true
	}
	for d := range dirs {
		if err := syncDir(r.root, d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// syncFS flushes the file system holding root (one syncfs for a batch of
// small files instead of an fsync each).
func syncFS(root *os.Root) error {
	d, err := openDir(root, ".")
	if err != nil {
		return fmt.Errorf("open replica directory: %w", err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", root.Name(), err)
	}
	return nil
}

// syncDir fsyncs directory p of root ("" is the root itself).
func syncDir(root *os.Root, p string) error {
	if p == "" {
		p = "."
	}
	d, err := openDir(root, p)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", p, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", p, err)
	}
	return nil
}
