package engine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/keeper"
)

func TestTailOffset(t *testing.T) {
	tests := []struct {
		content string
		n       int
		want    string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc\n", 3, "a\nb\nc\n"},
		{"a\nb\nc\n", 10, "a\nb\nc\n"},
		{"a\nb\nc\n", 0, ""},
		{"a\nb\nc", 1, "c"},
		{"a\nb\nc", 2, "b\nc"},
		{"", 3, ""},
		{"\n\n", 1, "\n"},
		{strings.Repeat("x", 40<<10) + "\n" + strings.Repeat("y", 40<<10) + "\nz\n", 2, strings.Repeat("y", 40<<10) + "\nz\n"},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.content[:min(len(tt.content), 8)])+"/"+strconv.Itoa(tt.n), func(t *testing.T) {
			r := strings.NewReader(tt.content)
			off, err := tailOffset(r, int64(len(tt.content)), tt.n)
			if err != nil || tt.content[off:] != tt.want {
				t.Errorf("tail %d = %q (%v), want %q", tt.n, tt.content[off:], err, tt.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, buf *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if buf.String() == want {
			return
		}
	}
	t.Fatalf("output %q, want %q", buf.String(), want)
}

// TestKeeperLogFollowsRotation: -n 1 -f prints the last line, then what is
// appended, then — after the keeper rotates keeper.log to keeper.log.1 —
// the rest of the old file and the new one.
func TestKeeperLogFollowsRotation(t *testing.T) {
	dir := t.TempDir()
	path := keeper.LogPath(dir)
	if err := os.WriteFile(path, []byte("one\ntwo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	appendTo := func(p, s string) {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- KeeperLog(ctx, dir, KeeperLogOptions{Out: &out, Tail: 1, Follow: true, Poll: 5 * time.Millisecond})
	}()
	waitFor(t, &out, "two\n")
	appendTo(path, "three\n")
	waitFor(t, &out, "two\nthree\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(path+".1", "four\n")
	appendTo(path, "five\n")
	waitFor(t, &out, "two\nthree\nfour\nfive\n")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("a cancelled follow returned %v", err)
	}
}

func TestKeeperLogMissing(t *testing.T) {
	err := KeeperLog(context.Background(), t.TempDir(), KeeperLogOptions{Out: &bytes.Buffer{}, Tail: -1})
	if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "keeper.log") {
		t.Errorf("a missing log: %v, want ErrNotFound naming keeper.log", err)
	}
}

// TestKeeperStatusLockHolder: a lock held by a keeper that does not answer
// names its holder; a free lock (or none) names nobody.
func TestKeeperStatusLockHolder(t *testing.T) {
	dir := t.TempDir()
	st, err := KeeperStatus(context.Background(), dir)
	if err != nil || st.Running || st.Pid != 0 || st.Socket != filepath.Join(dir, "keeper.sock") {
		t.Fatalf("no keeper: %+v, %v", st, err)
	}
	f, err := os.OpenFile(keeper.LockPath(dir), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("999999999\n") // a wrong pid: the kernel's record must win
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	st, err = KeeperStatus(context.Background(), dir)
	if err != nil || st.Running || st.Pid != os.Getpid() {
		t.Fatalf("held lock: %+v, %v; want pid %d", st, err, os.Getpid())
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	if st, err = KeeperStatus(context.Background(), dir); err != nil || st.Pid != 0 {
		t.Fatalf("released lock: %+v, %v", st, err)
	}
}
