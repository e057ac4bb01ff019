package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
)

// KeeperCommand is the command line of this node's detached keeper: the
// budgie executable (OpenOptions.Executable), the global flags (e.g.
// --config FILE), then `--headless serve --log-file DATA_DIR/keeper.log`.
// Every front end starts keepers with it (StartKeeper, and
// RunBundleOptions.KeeperArgv).
func (e *Engine) KeeperCommand() []string {
	argv := append([]string{e.executable(), "--headless"}, e.globalArgs...)
	return append(argv, "serve", "--log-file", keeper.LogPath(e.Config.DataDir))
}

// executable is OpenOptions.Executable, else this process's executable
// (else "budgie", found on PATH).
func (e *Engine) executable() string {
	if e.exe != "" {
		return e.exe
	}
	if exe, err := os.Executable(); err == nil {
		return exe
	}
	return "budgie"
}

// KeeperRunning reports whether the node's keeper answers.
func (e *Engine) KeeperRunning(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err := e.Keeper.Ping(ctx)
	return err == nil
}

// StartKeeper starts the node's keeper detached (KeeperCommand) unless one
// runs, and waits up to 20 s for it to answer. Several callers at once end
// with one keeper.
func (e *Engine) StartKeeper(ctx context.Context) error {
	return e.startKeeper(ctx, e.KeeperCommand())
}

func (e *Engine) startKeeper(ctx context.Context, argv []string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err := keeper.Ensure(ctx, e.Config.DataDir, argv, keeper.EnsureOptions{})
	return err
}

// ShellCommand is the command line that opens an interactive shell in a
// container (`budgie --headless exec -it ID sh`), for a front end to run
// in its terminal.
func (e *Engine) ShellCommand(id string) []string {
	argv := append([]string{e.executable(), "--headless"}, e.globalArgs...)
	return append(argv, "exec", "-it", id, "sh")
}

// RunCommandLine runs `budgie --headless ARGS…` (nest's : palette) and
// returns its combined output; a failure's error names the command.
func (e *Engine) RunCommandLine(ctx context.Context, args []string) (string, error) {
	argv := append(append([]string{"--headless"}, e.globalArgs...), args...)
	cmd := exec.CommandContext(ctx, e.executable(), argv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("budgie %s: %w", strings.Join(args, " "), err)
	}
	return out.String(), nil
}
