package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/internal/fsutil"
	"github.com/budgie-sh/budgie/models"
)

// trustFileVersion is the version of trust.json's layout.
const trustFileVersion = 1

// errUnchanged tells update that fn changed nothing to write.
var errUnchanged = errors.New("unchanged")

// trustFile is trust.json.
type trustFile struct {
	Version int `json:"version"`
	models.TrustList
}

// fileStamp tells whether trust.json was replaced since it was read.
type fileStamp struct {
	ino   uint64
	size  int64
	mtime time.Time
}

func stampOf(info fs.FileInfo) fileStamp {
	st := fileStamp{size: info.Size(), mtime: info.ModTime()}
	if sys, ok := info.Sys().(*syscall.Stat_t); ok {
		st.ino = sys.Ino
	}
	return st
}

// readTrustFile reads path; a missing file is an empty store.
func readTrustFile(path string) (*trustFile, fileStamp, error) {
	f := &trustFile{Version: trustFileVersion}
	fd, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, fileStamp{}, nil
	}
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("read trust store: %w", err)
	}
	defer fd.Close()
	// Stat the open file, not the path: a writer may replace the path
	// meanwhile, and the stamp must describe the bytes read.
	info, err := fd.Stat()
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("read trust store: %w", err)
	}
	b, err := io.ReadAll(fd)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("read trust store: %w", err)
	}
	if err := json.Unmarshal(b, f); err != nil {
		return nil, fileStamp{}, fmt.Errorf("trust store %s is corrupt (fix or remove it; removing forgets every trusted node): %w: %w", path, err, errdefs.ErrInvalid)
	}
	if f.Version != trustFileVersion {
		return nil, fileStamp{}, fmt.Errorf("trust store %s has version %d; this budgie reads version %d: %w", path, f.Version, trustFileVersion, errdefs.ErrNotSupported)
	}
	return f, stampOf(info), nil
}

// refreshLocked re-reads trust.json when it changed since the last read.
// s.mu is held.
func (s *TrustStore) refreshLocked() error {
	info, err := os.Stat(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.trusted, s.stamp = map[ID]models.TrustedPeer{}, fileStamp{}
		return nil
	case err != nil:
		return fmt.Errorf("read trust store: %w", err)
	case s.trusted != nil && stampOf(info) == s.stamp:
		return nil
	}
	f, stamp, err := readTrustFile(s.path)
	if err != nil {
		return err
	}
	s.setLocked(f, stamp)
	return nil
}

// setLocked caches f's trusted peers. s.mu is held.
func (s *TrustStore) setLocked(f *trustFile, stamp fileStamp) {
	trusted := make(map[ID]models.TrustedPeer, len(f.Trusted))
	for _, p := range f.Trusted {
		id, err := ParseID(p.ID)
		if err != nil {
			s.log.Warn("trust store lists a bad node ID; ignoring it", "path", s.path, "id", p.ID)
			continue
		}
		trusted[id] = p
	}
	s.trusted, s.stamp = trusted, stamp
}

// update applies fn to the current file under the cross-process lock and
// writes the result atomically, unless fn returns errUnchanged.
func (s *TrustStore) update(ctx context.Context, fn func(*trustFile) error) error {
	unlock, err := lockFile(ctx, s.lockPath)
	if err != nil {
		return err
	}
	defer unlock()
	f, _, err := readTrustFile(s.path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		if errors.Is(err, errUnchanged) {
			return nil
		}
		return err
	}
	f.Version = trustFileVersion
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode trust store: %w", err)
	}
	if err := fsutil.WriteFile(s.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write trust store %s: %w", s.path, err)
	}
	info, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("write trust store %s: %w", s.path, err)
	}
	s.mu.Lock()
	s.setLocked(f, stampOf(info))
	s.mu.Unlock()
	return nil
}

// lockFile takes an exclusive flock on path, waiting until ctx ends.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	fd, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock trust store: %w", err)
	}
	for {
		err := unix.Flock(int(fd.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { fd.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			fd.Close()
			return nil, fmt.Errorf("lock trust store %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			fd.Close()
			return nil, fmt.Errorf("lock trust store %s (another budgie holds it): %w: %w", path, ctx.Err(), errdefs.ErrUnavailable)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (f *trustFile) trustedIndex(id string) int {
	return slices.IndexFunc(f.Trusted, func(p models.TrustedPeer) bool { return p.ID == id })
}

// claimedName is the name id gave in a pending request or denial, or "".
func (f *trustFile) claimedName(id string) string {
	for _, p := range f.Pending {
		if p.ID == id {
			return p.Name
		}
	}
	for _, d := range f.Denied {
		if d.ID == id {
			return d.Name
		}
	}
	return ""
}

func (f *trustFile) removePending(id string) bool {
	n := len(f.Pending)
	f.Pending = slices.DeleteFunc(f.Pending, func(p models.PendingPeer) bool { return p.ID == id })
	return len(f.Pending) != n
}

func (f *trustFile) removeDenied(id string) bool {
	n := len(f.Denied)
	f.Denied = slices.DeleteFunc(f.Denied, func(d models.DeniedPeer) bool { return d.ID == id })
	return len(f.Denied) != n
}

// allIDs lists every ID in l.
func allIDs(l models.TrustList) []string {
	var ids []string
	for _, p := range l.Trusted {
		ids = append(ids, p.ID)
	}
	for _, p := range l.Pending {
		ids = append(ids, p.ID)
	}
	for _, d := range l.Denied {
		ids = append(ids, d.ID)
	}
	return ids
}
