package volsync

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Files inside a volume are written by containers, which may plant a fifo,
// a device node, a hard link to a host file or a symlink under any name at
// any time. So a file is never opened by path alone: its parent directory
// is opened through os.Root (which keeps every step inside the volume),
// and the last element with openat(O_NOFOLLOW|O_NONBLOCK) on that
// descriptor, then fstat decides. os.Root.OpenFile itself is not enough: it
// follows a symlink that stays inside the root even when O_NOFOLLOW is set,
// and opening a fifo without O_NONBLOCK blocks until a writer comes.

// errNotRegular says a name is not (or no longer) a regular file.
var errNotRegular = errors.New("not a regular file")

// fileID identifies an inode.
type fileID struct{ dev, ino uint64 }

// idOf returns the inode of an lstat or fstat result.
func idOf(info fs.FileInfo) fileID {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return fileID{uint64(st.Dev), st.Ino}
	}
	return fileID{}
}

// linksOf returns the link count of an lstat or fstat result.
func linksOf(info fs.FileInfo) uint64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// openAt opens p inside root as described above and returns the raw
// descriptor with its fstat. p "" or "." is the root itself. With regular
// set, the last element is first lstat'ed on the parent's descriptor and
// anything but a regular file gives errNotRegular without being opened.
// The parent is opened through the root each time, or taken from dc
// when that holds it.
func openAt(root *os.Root, dc *dirCache, p string, flag int, perm uint32, regular bool) (int, syscall.Stat_t, error) {
	var st syscall.Stat_t
	dir, base := path.Split(p)
	if base == "" {
		base = "."
	}
	if dir = path.Clean(dir); dir == "" {
		dir = "."
	}
	d, err := dc.get(root, dir)
	if err != nil {
		return -1, st, err
	}
	if dc == nil {
		defer d.Close()
	}
	dfd := int(d.Fd())
	if regular {
		if err := fstatat(dfd, base, &st); err != nil {
			return -1, st, &fs.PathError{Op: "lstat", Path: p, Err: err}
		}
		if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
			return -1, st, fmt.Errorf("open %s: %w", p, errNotRegular)
		}
	}
	var fd int
	for {
		fd, err = unix.Openat(dfd, base, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, perm)
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.ELOOP {
		err = fmt.Errorf("%w (a symlink)", errNotRegular)
	}
	if err != nil {
		return -1, st, &fs.PathError{Op: "openat", Path: p, Err: err}
	}
	if err := syscall.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, st, &fs.PathError{Op: "fstat", Path: p, Err: err}
	}
	return fd, st, nil
}

// dirCache keeps the directory openAt opened last, for runs of files in
// one directory (files come in path order): the parent is opened through
// the root once per run, not once per file. The descriptor stays inside
// the volume: a directory moved meanwhile takes it along, which at worst
// makes a file stale (its name is checked again before a rename). Not for
// concurrent use; a nil *dirCache caches nothing.
type dirCache struct {
	root *os.Root
	dir  string
	d    *os.File
}

// get returns the directory dir of root, opened; without a cache the
// caller closes it.
func (dc *dirCache) get(root *os.Root, dir string) (*os.File, error) {
	if dc != nil && dc.d != nil && dc.root == root && dc.dir == dir {
		return dc.d, nil
	}
	d, err := root.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK, 0)
	if err != nil || dc == nil {
		return d, err
	}
	dc.close()
	dc.root, dc.dir, dc.d = root, dir, d
	return d, nil
}

// close drops the cached directory.
func (dc *dirCache) close() {
	if dc != nil && dc.d != nil {
		dc.d.Close()
		dc.d = nil
	}
}

// fstatat lstats name in the directory dirfd.
func fstatat(dirfd int, name string, st *syscall.Stat_t) error {
	var u unix.Stat_t
	for {
		err := unix.Fstatat(dirfd, name, &u, unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.EINTR {
			continue
		}
		if err == nil {
			*st = syscall.Stat_t{Dev: u.Dev, Ino: u.Ino, Nlink: u.Nlink, Mode: u.Mode, Uid: u.Uid, Gid: u.Gid,
				Rdev: u.Rdev, Size: u.Size, Blksize: u.Blksize, Blocks: u.Blocks,
				Atim: syscall.Timespec(u.Atim), Mtim: syscall.Timespec(u.Mtim), Ctim: syscall.Timespec(u.Ctim)}
		}
		return err
	}
}

// openRegular opens the regular file p inside root with flag (os.O_RDONLY
// or os.O_RDWR) and returns it in blocking mode with its fstat. A fifo,
// device, socket, directory or symlink gives errNotRegular: it is not
// opened at all when lstat already shows it, and never read or written.
func openRegular(root *os.Root, dc *dirCache, p string, flag int) (*os.File, fs.FileInfo, error) {
	fd, st, err := openAt(root, dc, p, flag, 0, true)
	if err != nil {
		return nil, nil, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("open %s: %w", p, errNotRegular)
	}
	return blockingFile(root, p, fd, &st)
}

// createExcl creates the regular file p inside root, failing with
// fs.ErrExist when anything (even a dangling symlink) has the name.
func createExcl(root *os.Root, dc *dirCache, p string, perm uint32) (*os.File, fs.FileInfo, error) {
	fd, st, err := openAt(root, dc, p, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm, false)
	if err != nil {
		return nil, nil, err
	}
	return blockingFile(root, p, fd, &st)
}

// blockingFile clears O_NONBLOCK on a regular file's descriptor (the
// only file status flag openAt sets) and wraps it with its fstat st.
func blockingFile(root *os.Root, p string, fd int, st *syscall.Stat_t) (*os.File, fs.FileInfo, error) {
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, 0); err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("open %s: %w", p, err)
	}
	return os.NewFile(uintptr(fd), path.Join(root.Name(), p)), statInfo(path.Base(p), st), nil
}

// openDir opens the directory p inside root ("" or "." is the root) without
// following a symlink in its last element.
func openDir(root *os.Root, p string) (*os.File, error) {
	fd, _, err := openAt(root, nil, p, os.O_RDONLY|unix.O_DIRECTORY, 0, false)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path.Join(root.Name(), p)), nil
}

// fileStat is an fs.FileInfo made from a stat the caller already has,
// with the same Mode, ModTime and Sys as os.Lstat's.
type fileStat struct {
	name string
	st   syscall.Stat_t
}

func statInfo(name string, st *syscall.Stat_t) fs.FileInfo { return &fileStat{name, *st} }

func (s *fileStat) Name() string       { return s.name }
func (s *fileStat) Size() int64        { return s.st.Size }
func (s *fileStat) ModTime() time.Time { return time.Unix(s.st.Mtim.Sec, s.st.Mtim.Nsec) }
func (s *fileStat) IsDir() bool        { return s.Mode().IsDir() }
func (s *fileStat) Sys() any           { return &s.st }

// Mode converts st_mode as os does.
func (s *fileStat) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	switch s.st.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if s.st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if s.st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if s.st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// setTimes sets the access and modification times of an open file to mtime
// (nanoseconds), through its descriptor: utimensat(fd, NULL).
func setTimes(f *os.File, mtime int64) error {
	ts := [2]unix.Timespec{unix.NsecToTimespec(mtime), unix.NsecToTimespec(mtime)}
	var errno syscall.Errno
	err := fdControl(f, func(fd uintptr) {
		_, _, errno = unix.Syscall6(unix.SYS_UTIMENSAT, fd, 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	})
	if err == nil && errno != 0 {
		err = errno
	}
	if err != nil {
		return fmt.Errorf("set times of %s: %w", f.Name(), err)
	}
	return nil
}

// fdControl runs fn with f's descriptor.
func fdControl(f *os.File, fn func(fd uintptr)) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(fn)
}

// walkDir calls fn with the lstat of every entry below dir (not dir
// itself): each directory's entries in byte order of names, each entry
// lstat'ed on the directory's descriptor (no walk from the root per
// entry), then its subdirectories the same way. Directories are read
// through openDir, so a directory swapped for a symlink or a fifo is not
// followed or blocked on; one that vanishes or stops being a directory
// meanwhile is skipped. Names need not be UTF-8. fn returns fs.SkipDir to
// leave a directory's contents out. One directory is open at a time.
func walkDir(root *os.Root, dir string, fn func(p string, info fs.FileInfo) error) error {
	d, err := openDir(root, dir)
	if err != nil {
		return err
	}
	subdirs, err := walkEntries(d, dir, fn)
	d.Close()
	if err != nil {
		return err
	}
	for _, p := range subdirs {
		if err := walkDir(root, p, fn); err != nil && !gone(err) {
			return err
		}
	}
	return nil
}

// walkEntries calls fn for the entries of the open directory d (at dir)
// and returns the subdirectories to walk.
func walkEntries(d *os.File, dir string, fn func(p string, info fs.FileInfo) error) ([]string, error) {
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read directory %s: %w", dir, err)
	}
	slices.Sort(names)
	dfd := int(d.Fd())
	var subdirs []string
	var st syscall.Stat_t
	for _, name := range names {
		p := name
		if dir != "." && dir != "" {
			p = dir + "/" + name
		}
		if err := fstatat(dfd, name, &st); err != nil {
			if err == syscall.ENOENT {
				continue
			}
			return nil, &fs.PathError{Op: "lstat", Path: p, Err: err}
		}
		info := statInfo(name, &st)
		if err := fn(p, info); err == fs.SkipDir {
			continue
		} else if err != nil {
			return nil, err
		}
		if info.IsDir() {
			subdirs = append(subdirs, p)
		}
	}
	return subdirs, nil
}

// gone reports errors of a path that vanished or changed type meanwhile.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, errNotRegular)
}
