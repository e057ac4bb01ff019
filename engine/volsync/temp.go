package volsync

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"
)

// Temp files live in the volume, where a container may have planted
// anything under their names. An interrupted temp file is reused only when
// it is a regular file with exactly one link (not a hard link to a file
// elsewhere) and is still the same inode when it is written; anything else
// under the name is unlinked and a new file is created with O_EXCL. Just
// before the rename, the temp name must still hold the inode that was
// written and verified (see stillOurs; the rename itself goes by name).

// checkTemp marks the blocks of an interrupted temp file that already hold
// the right data, and remembers which inode it checked.
func (r *receiver) checkTemp(t string, p *filePlan) {
	f, info, err := openRegular(r.root, nil, t, os.O_RDONLY)
	if err != nil {
		return
	}
	defer f.Close()
	if linksOf(info) != 1 {
		return
	}
	p.tempID = idOf(info)
	bs := p.en.BlockSize
	buf := getHashBuf(bs)
	defer putHashBuf(buf)
	for i, want := range p.en.Blocks {
		n, off := blockLen(p.en.Size, bs, i), int64(i)*int64(bs)
		if off+int64(n) > info.Size() {
			break
		}
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			break
		}
		p.have[i] = blockSum(buf[:n]) == want
	}
}

// openTemp opens the temp file to assemble p in: the one checkTemp
// verified when the name still holds that inode with one link, or else a
// new one. It returns errChanged when blocks the plan counted on are gone.
func (r *receiver) openTemp(p *filePlan) (*os.File, fileID, error) {
	if p.tempID != (fileID{}) {
		f, info, err := openRegular(r.root, nil, p.tmp, os.O_RDWR)
		if err == nil && idOf(info) == p.tempID && linksOf(info) == 1 {
			return f, p.tempID, nil
		}
		if f != nil {
			f.Close()
		}
		if slices.Contains(p.have, true) {
			r.root.RemoveAll(p.tmp)
			return nil, fileID{}, errChanged
		}
	}
	f, info, err := r.createTemp(p.tmp, nil)
	if err != nil {
		return nil, fileID{}, err
	}
	return f, idOf(info), nil
}

// createTemp creates a new, empty regular file at the name tmp with
// O_EXCL; when anything already holds the name (a fifo, a device node, a
// hard link, a symlink, a directory), that is unlinked and the create
// tried again, up to three times. dc may hold the directory.
func (r *receiver) createTemp(tmp string, dc *dirCache) (*os.File, fs.FileInfo, error) {
	r.c.event(evCreate, tmp)
	for range 3 {
		f, info, err := createExcl(r.root, dc, tmp, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			return f, info, err
		}
		if err := r.root.RemoveAll(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
	}
	return nil, nil, fmt.Errorf("create %s: the name keeps being taken: %w", tmp, fs.ErrExist)
}

// openBasis opens a local file to copy blocks from: a regular file with
// one link (a hard link could lead to a host file).
func (r *receiver) openBasis(p string) (*os.File, error) {
	f, info, err := openRegular(r.root, nil, p, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	if linksOf(info) != 1 {
		f.Close()
		return nil, fmt.Errorf("basis %s has %d links: %w", p, linksOf(info), errNotRegular)
	}
	return f, nil
}

// madeTemp records that a planner created p's temp file. Until the stream
// takes the file over (takeTemp), the temp file holds only blocks copied
// from the local old copy, nothing received: if the pass ends first, it
// is deleted (dropMadeTemps) rather than left for a resume.
func (r *receiver) madeTemp(p *filePlan) {
	r.madeMu.Lock()
	defer r.madeMu.Unlock()
	r.made[p] = true
}

// takeTemp says the stream took p over: its temp file receives data and
// is committed, or kept to resume after an interruption.
func (r *receiver) takeTemp(p *filePlan) {
	r.madeMu.Lock()
	defer r.madeMu.Unlock()
	delete(r.made, p)
}

// dropMadeTemps deletes the temp files the planners made that the stream
// never took over, each only while its name still holds the inode the
// planner created. Only after the planners ended.
func (r *receiver) dropMadeTemps() {
	r.madeMu.Lock()
	defer r.madeMu.Unlock()
	for p := range r.made {
		if err := removeIfSame(r.root, p.tmp, p.tempID); err != nil && !gone(err) {
			r.c.log.Warn("sync cannot delete a temp file it made", "volume", r.volume, "path", p.tmp, "err", err)
		}
		delete(r.made, p)
	}
}

// removeIfSame unlinks the file p of root when p still names the inode
// id (a temp name another pass reused for a new file is left alone).
func removeIfSame(root *os.Root, p string, id fileID) error {
	d, err := openDir(root, dirName(parentOf(p)))
	if err != nil {
		return err
	}
	defer d.Close()
	var st syscall.Stat_t
	if err := fstatat(int(d.Fd()), path.Base(p), &st); err != nil {
		return err
	}
	if (fileID{uint64(st.Dev), st.Ino}) != id {
		return nil
	}
	return unix.Unlinkat(int(d.Fd()), path.Base(p), 0)
}
