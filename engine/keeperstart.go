package engine

import (
	"context"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
)

// KeeperArgv is the command line of a detached keeper: the budgie
// executable exe, the global flags (e.g. --config FILE), then
// `--headless serve --log-file DATA_DIR/keeper.log`. The CLI and nest
// both start keepers with it.
func KeeperArgv(exe string, global []string, dataDir string) []string {
	argv := append([]string{exe, "--headless"}, global...)
	return append(argv, "serve", "--log-file", keeper.LogPath(dataDir))
}

// KeeperRunning reports whether the node's keeper answers.
func (e *Engine) KeeperRunning(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err := e.Keeper.Ping(ctx)
	return err == nil
}

// StartKeeper starts the node's keeper detached with argv (KeeperArgv)
// unless one runs, and waits up to 20 s for it to answer. Several callers
// at once end with one keeper.
func (e *Engine) StartKeeper(ctx context.Context, argv []string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err := keeper.Ensure(ctx, e.Config.DataDir, argv, keeper.EnsureOptions{})
	return err
}
