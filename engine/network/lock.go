package network

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// processLock serialises network changes within this process (the flock
// below serialises processes). It is a channel so that waiting honours a
// context.
var processLock = make(chan struct{}, 1)

// fileLock is an flock on a file shared by every Budgie process that uses
// the same DataDir.
type fileLock struct{ path string }

func newFileLock(path string) *fileLock { return &fileLock{path: path} }

// locked runs fn holding the process lock and the file lock.
func (m *Manager) locked(ctx context.Context, fn func() error) error {
	select {
	case processLock <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for the network lock: %w", ctx.Err())
	}
	defer func() { <-processLock }()
	unlock, err := m.lock.acquire(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// acquire takes the flock, polling while another process holds it so that
// ctx can end the wait.
func (l *fileLock) acquire(ctx context.Context) (func(), error) {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open network lock %s: %w", l.path, err)
	}
	wait := time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", l.path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("network lock %s is held by another budgie process (%w): %w",
				l.path, ctx.Err(), errdefs.ErrUnavailable)
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}
