package volsync

import (
	"context"
	"fmt"
)

// SubscribeOptions configures Subscribe.
type SubscribeOptions struct {
	// SyncOptions apply to every sync; Paths is ignored.
	SyncOptions
	// OnSync, when set, is called after each sync with its result.
	OnSync func(Stats, error)
}

// Subscribe keeps localDir in sync with the primary's volume until ctx
// ends: one full sync, then a sync of the changed paths (or a full
// quick-check rescan) each time the primary reports a change. It returns
// ctx's error when ctx ends, or the first error that breaks the connection.
// The Client serves nothing else meanwhile.
func (c *Client) Subscribe(ctx context.Context, volume, localDir string, opts SubscribeOptions) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usable(); err != nil {
		return err
	}
	if err := c.subscribe(ctx, volume); err != nil {
		return err
	}
	change := Change{Rescan: true}
	for {
		so := opts.SyncOptions
		so.Paths = nil
		if !change.Rescan {
			so.Paths = change.Paths
		}
		st, err := c.syncLocked(ctx, volume, localDir, so)
		if opts.OnSync != nil {
			opts.OnSync(st, err)
		}
		if err != nil {
			if uerr := c.usable(); uerr != nil {
				return err
			}
		}
		if change, err = c.nextChange(ctx); err != nil {
			return err
		}
	}
}

// subscribe asks the primary for change notifications.
func (c *Client) subscribe(ctx context.Context, volume string) error {
	stop := c.watch(ctx)
	defer stop()
	var e enc
	e.str(volume)
	if err := c.sendFlush(msgSubscribe, e.b); err != nil {
		return c.done(ctx, fmt.Errorf("subscribe to volume %q: %w", volume, err))
	}
	if _, err := c.expect(msgSubscribed); err != nil {
		return c.done(ctx, fmt.Errorf("subscribe to volume %q: %w", volume, err))
	}
	return nil
}

// nextChange returns the queued changes merged, waiting for one if none.
func (c *Client) nextChange(ctx context.Context) (Change, error) {
	if ch, ok := c.takeChanges(); ok {
		return ch, nil
	}
	stop := c.clock.start(ctx, false) // a quiet volume sends nothing for long
	typ, p, err := c.fr.next()
	stop()
	if err != nil {
		return Change{}, c.fail(ctx, fmt.Errorf("wait for changes: %w", err))
	}
	if typ != msgChanged {
		return Change{}, c.fail(ctx, protoErr("expected a change notification, got message type 0x%02x", typ))
	}
	ch, err := decodeChange(p)
	if err != nil {
		return Change{}, c.fail(ctx, err)
	}
	if ch.Rescan || len(ch.Paths) > maxChangePaths {
		return Change{Rescan: true}, nil
	}
	return ch, nil
}
