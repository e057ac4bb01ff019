package cli

import (
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/web"
)

// ServeCmd runs the node keeper in the foreground.
type ServeCmd struct {
	LogFile string `help:"Write the log to this file, rotated at 10 MiB with 3 files kept, instead of stderr (a detached keeper uses DATA_DIR/keeper.log)." type:"path" placeholder:"FILE"`
}

// Run runs the keeper until SIGINT or SIGTERM. A second keeper on the same
// data directory fails, naming the pid of the first.
func (c *ServeCmd) Run(g *Globals, eng *engine.Engine) error {
	cfg := eng.Config
	var out io.Writer // nil: stderr
	logFile := c.LogFile
	if logFile == "" && stderrIs(keeper.LogPath(cfg.DataDir)) {
		logFile = keeper.LogPath(cfg.DataDir) // started detached by a caller that did not say so
	}
	if logFile != "" {
		f, err := logs.OpenRotating(logFile, logs.FileOptions{Opened: redirectOutput})
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}
	opts := engine.ServeOptions{Log: out, Version: g.version}
	if cfg.Web.Enabled {
		dash, err := web.New(web.Options{Engine: eng, Version: g.version})
		if err != nil {
			return err
		}
		opts.Dashboard = dash.Serve
	}
	return eng.Serve(g.ctx, opts)
}

// stderrIs reports whether the process's stderr is the file at path.
func stderrIs(path string) bool {
	st, err := os.Stderr.Stat()
	if err != nil {
		return false
	}
	want, err := os.Stat(path)
	return err == nil && os.SameFile(st, want)
}

// redirectOutput points the process's stdout and stderr at f, the log file
// just opened, so that what bypasses the logger (a panic's trace) lands in
// the current log rather than in a file rotated away.
func redirectOutput(f *os.File) {
	for _, fd := range []int{1, 2} {
		_ = unix.Dup2(int(f.Fd()), fd)
	}
}
