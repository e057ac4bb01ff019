package volsync

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Change is a notification that paths in a volume changed. Paths are
// relative to the watched directory (absolute paths under it are accepted
// too); Rescan asks for a full quick-check rescan instead.
type Change struct {
	Paths  []string
	Rescan bool
}

// ChangeSource reports changes under a directory until ctx ends, when it
// closes the channel. engine/volsync/watch fits it with a small adapter.
type ChangeSource interface {
	Watch(ctx context.Context, dir string) (<-chan Change, error)
}

// ChangeSourceFunc adapts a function to ChangeSource.
type ChangeSourceFunc func(ctx context.Context, dir string) (<-chan Change, error)

// Watch calls f.
func (f ChangeSourceFunc) Watch(ctx context.Context, dir string) (<-chan Change, error) {
	return f(ctx, dir)
}

// PollSource is a ChangeSource that rescans the directory (metadata only)
// every Interval and reports what differs from the previous scan.
type PollSource struct {
	// Interval between scans; 0 means two seconds.
	Interval time.Duration
}

// maxChangePaths is the number of paths above which a change becomes a rescan.
const maxChangePaths = 1000

// Watch implements ChangeSource.
func (ps PollSource) Watch(ctx context.Context, dir string) (<-chan Change, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	prev, err := snapshot(root)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	iv := ps.Interval
	if iv <= 0 {
		iv = 2 * time.Second
	}
	ch := make(chan Change, 1)
	go func() {
		defer close(ch)
		defer root.Close()
		t := time.NewTicker(iv)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			cur, err := snapshot(root)
			if err != nil {
				continue
			}
			if c, changed := diffSnapshots(prev, cur); changed {
				select {
				case ch <- c:
				case <-ctx.Done():
					return
				}
			}
			prev = cur
		}
	}()
	return ch, nil
}

// snapshot maps every path to its metadata.
func snapshot(root *os.Root) (map[string]Entry, error) {
	entries, _, err := scanTree(root, nil)
	if err != nil {
		return nil, err
	}
	m := make(map[string]Entry, len(entries))
	for _, en := range entries {
		m[en.Path] = en
	}
	return m, nil
}

// diffSnapshots lists the paths that were added, removed or changed.
func diffSnapshots(prev, cur map[string]Entry) (Change, bool) {
	var c Change
	for p, a := range cur {
		if b, ok := prev[p]; !ok || !sameMeta(a, b) {
			c.Paths = append(c.Paths, p)
		}
	}
	for p := range prev {
		if _, ok := cur[p]; !ok {
			c.Paths = append(c.Paths, p)
		}
	}
	if len(c.Paths) > maxChangePaths {
		c = Change{Rescan: true}
	}
	return c, c.Rescan || len(c.Paths) > 0
}

// sameMeta compares the quick-check fields of two entries.
func sameMeta(a, b Entry) bool {
	return a.Kind == b.Kind && a.Size == b.Size && a.ModTime == b.ModTime && a.Mode == b.Mode &&
		a.UID == b.UID && a.GID == b.GID && a.Target == b.Target
}

// handleSubscribe starts change notifications for a volume.
func (ss *session) handleSubscribe(p []byte) error {
	d := dec{b: p}
	name := d.str(maxPathLen)
	if err := d.done(); err != nil {
		return err
	}
	if _, err := ss.volume(name); err != nil {
		return err
	}
	if ss.subs {
		return &requestError{codeInvalid, "this connection is already subscribed"}
	}
	dir, _ := ss.srv.opts.Volumes(name)
	ch, err := ss.srv.opts.Changes.Watch(ss.ctx, dir)
	if err != nil {
		return &requestError{codeInternal, err.Error()}
	}
	ss.subs = true
	if err := ss.send(msgSubscribed); err != nil {
		return err
	}
	go ss.notify(name, dir, ch)
	return nil
}

// notify debounces changes and sends them to the client. The peer is
// authorized again before each batch: once it is not (its trust was
// revoked), the session ends.
func (ss *session) notify(volume, dir string, ch <-chan Change) {
	var pending Change
	var timer <-chan time.Time
	for {
		select {
		case c, ok := <-ch:
			if !ok {
				return
			}
			pending = mergeChange(dir, pending, c)
			if timer == nil {
				timer = time.After(ss.srv.opts.Debounce)
			}
		case <-timer:
			timer = nil
			if auth := ss.srv.opts.Authorize; auth == nil || !auth(ss.peer, volume) {
				ss.srv.log.Warn("sync subscriber is no longer authorized; closing its connection",
					"peer", ss.peer.Addr, "fingerprint", ss.peer.Fingerprint, "volume", volume)
				ss.cancel()
				return
			}
			err := ss.send(msgChanged, encodeChange(pending))
			if err == nil {
				err = ss.flush()
			}
			if err != nil {
				return
			}
			pending = Change{}
		case <-ss.ctx.Done():
			return
		}
	}
}

// mergeChange adds c to acc, turning odd or too many paths into a rescan.
func mergeChange(dir string, acc, c Change) Change {
	if acc.Rescan || c.Rescan {
		return Change{Rescan: true}
	}
	for _, p := range c.Paths {
		rel, ok := relPath(dir, p)
		if !ok || rel == "" || len(acc.Paths) >= maxChangePaths {
			return Change{Rescan: true}
		}
		acc.Paths = append(acc.Paths, rel)
	}
	return acc
}

func encodeChange(c Change) []byte {
	var e enc
	if c.Rescan {
		e.u8(1)
	} else {
		e.u8(0)
	}
	e.u32(uint32(len(c.Paths)))
	for _, p := range c.Paths {
		e.str(p)
	}
	return e.b
}

func decodeChange(p []byte) (Change, error) {
	d := dec{b: p}
	c := Change{Rescan: d.u8() == 1}
	n := d.u32()
	if d.err == nil && uint64(n)*4 > uint64(len(d.b)) {
		return c, protoErr("change claims %d paths", n)
	}
	if n > maxChangePaths { // the client would rescan anyway
		return Change{Rescan: true}, nil
	}
	for range n {
		s := d.str(maxPathLen)
		if d.err == nil && checkPath(s) != nil {
			return c, protoErr("change names a bad path %q", s)
		}
		c.Paths = append(c.Paths, s)
	}
	return c, d.done()
}
