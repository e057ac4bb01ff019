package volsync

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"syscall"
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
// descriptor with its fstat. p "" or "." is the root itself.
func openAt(root *os.Root, p string, flag int, perm uint32) (int, unix.Stat_t, error) {
	var st unix.Stat_t
	dir, base := path.Split(p)
	if base == "" {
		base = "."
	}
	if dir = path.Clean(dir); dir == "" {
		dir = "."
	}
	d, err := root.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return -1, st, err
	}
	defer d.Close()
	var fd int
	for {
		fd, err = unix.Openat(int(d.Fd()), base, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, perm)
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
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, st, &fs.PathError{Op: "fstat", Path: p, Err: err}
	}
	return fd, st, nil
}

// openRegular opens the regular file p inside root with flag (os.O_RDONLY
// or os.O_RDWR) and returns it in blocking mode with its fstat. A fifo,
// device, socket, directory or symlink gives errNotRegular: it is not
// opened at all when lstat already shows it, and never read or written.
func openRegular(root *os.Root, p string, flag int) (*os.File, fs.FileInfo, error) {
	info, err := root.Lstat(p)
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("open %s: %w", p, errNotRegular)
	}
	fd, st, err := openAt(root, p, flag, 0)
	if err != nil {
		return nil, nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("open %s: %w", p, errNotRegular)
	}
	return blockingFile(root, p, fd)
}

// createExcl creates the regular file p inside root, failing with
// fs.ErrExist when anything (even a dangling symlink) has the name.
func createExcl(root *os.Root, p string, perm uint32) (*os.File, fs.FileInfo, error) {
	fd, _, err := openAt(root, p, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, nil, err
	}
	return blockingFile(root, p, fd)
}

// blockingFile clears O_NONBLOCK on a regular file's descriptor and wraps it.
func blockingFile(root *os.Root, p string, fd int) (*os.File, fs.FileInfo, error) {
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("open %s: %w", p, err)
	}
	f := os.NewFile(uintptr(fd), path.Join(root.Name(), p))
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// openDir opens the directory p inside root ("" or "." is the root) without
// following a symlink in its last element.
func openDir(root *os.Root, p string) (*os.File, error) {
	fd, _, err := openAt(root, p, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path.Join(root.Name(), p)), nil
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
// itself), depth first in byte order of names. Directories are read
// through openDir, so a directory swapped for a symlink or a fifo is not
// followed or blocked on; one that vanishes or stops being a directory
// meanwhile is skipped. Names need not be UTF-8. fn returns fs.SkipDir to
// leave a directory's contents out.
func walkDir(root *os.Root, dir string, fn func(p string, info fs.FileInfo) error) error {
	d, err := openDir(root, dir)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("read directory %s: %w", dir, err)
	}
	slices.Sort(names)
	for _, name := range names {
		p := name
		if dir != "." && dir != "" {
			p = dir + "/" + name
		}
		info, err := root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := fn(p, info); err == fs.SkipDir {
			continue
		} else if err != nil {
			return err
		}
		if !info.IsDir() {
			continue
		}
		if err := walkDir(root, p, fn); err != nil && !gone(err) {
			return err
		}
	}
	return nil
}

// gone reports errors of a path that vanished or changed type meanwhile.
func gone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, errNotRegular)
}
