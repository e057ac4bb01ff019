// Command budgie is a container manager for the LAN: run containers from
// YAML bundles on containerd, discover every node's containers over mDNS and
// replicate them. Without a command it opens nest, the full-screen TUI;
// with --headless it runs one command for scripts. Exit codes are listed in
// the README. The commands live in package cli.
package main

import (
	"os"

	"github.com/budgie-sh/budgie/cli"
	// Early: fewer collections while the libraries' init allocates.
	"github.com/budgie-sh/budgie/internal/initgc"
	// Early: the log driver tells containerd's shim it is ready before
	// the large libraries' init runs.
	_ "github.com/budgie-sh/budgie/engine/logs/ready"
	// First: stops Bubble Tea's init from querying the terminal.
	_ "github.com/budgie-sh/budgie/internal/terminit"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	initgc.Done()
	os.Exit(cli.Main(os.Args[1:], version))
}
