package replica

import (
	"context"
	"log/slog"
	"time"

	"github.com/budgie-sh/budgie/engine/volsync"
	"github.com/budgie-sh/budgie/engine/volsync/watch"
)

// WatchSource is the ChangeSource the primary uses by default: fsnotify
// through engine/volsync/watch, falling back to polling every 500ms for a
// volume it cannot watch (say, the inotify watch limit is reached).
func WatchSource(log *slog.Logger) volsync.ChangeSource {
	return volsync.ChangeSourceFunc(func(ctx context.Context, dir string) (<-chan volsync.Change, error) {
		w, err := watch.New(dir, watch.Options{Debounce: 100 * time.Millisecond, MaxDelay: 500 * time.Millisecond, Logger: log})
		if err != nil {
			log.Warn("cannot watch volume; polling it instead", "dir", dir, "err", err)
			return volsync.PollSource{Interval: 500 * time.Millisecond}.Watch(ctx, dir)
		}
		out := make(chan volsync.Change, 1)
		go func() {
			defer close(out)
			defer w.Close()
			for {
				select {
				case c, ok := <-w.Changes():
					if !ok {
						return
					}
					select {
					case out <- volsync.Change{Paths: c.Paths, Rescan: c.Rescan}:
					case <-ctx.Done():
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
		return out, nil
	})
}
