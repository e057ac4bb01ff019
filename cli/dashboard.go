package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/term"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/webauth"
)

// DashboardCmd prints the web dashboard's address with a one-time login
// link, or sets its password.
type DashboardCmd struct {
	Link   DashboardLinkCmd   `cmd:"" default:"withargs" help:"Print the dashboard's URL and a one-time login link (the default)."`
	Passwd DashboardPasswdCmd `cmd:"" help:"Set the dashboard's password (read from the terminal, or from stdin with --stdin)."`
}

// DashboardLinkCmd makes sure the keeper runs and prints a login link.
type DashboardLinkCmd struct {
	NoStart bool   `name:"no-start" help:"Fail rather than start the node's keeper when none runs."`
	Open    bool   `help:"Open the link in the desktop's browser (xdg-open) as well as printing it."`
	Format  string `help:"Output format: text or json." enum:"text,json" default:"text"`
}

// Help shows an example.
func (DashboardLinkCmd) Help() string {
	return "Example:\n  budgie dashboard            # prints http://127.0.0.1:18734/login?token=…\n  budgie dashboard --format json | jq -r .login_url"
}

// Run prints the dashboard's URL and a one-time login link.
func (c *DashboardLinkCmd) Run(g *Globals, eng *engine.Engine) error {
	link, err := eng.DashboardLink(g.ctx, engine.DashboardLinkOptions{NoStart: c.NoStart})
	if err != nil {
		return err
	}
	if c.Format == "json" {
		return printJSON(link)
	}
	fmt.Printf("Dashboard: %s\n", link.URL)
	if link.Fingerprint != "" {
		fmt.Printf("Its TLS certificate is this node's: ID %s (budgie id)\n", link.Fingerprint)
	}
	// The link on a line of its own: nest's palette clips long lines.
	fmt.Printf("Log in with this link (it works once, until %s):\n%s\n", link.Expires.Format("15:04"), link.LoginURL)
	if c.Open {
		if err := exec.Command("xdg-open", link.LoginURL).Start(); err != nil {
			return fmt.Errorf("open the browser (xdg-open): %w", err)
		}
	}
	return nil
}

// DashboardPasswdCmd sets the dashboard's password.
type DashboardPasswdCmd struct {
	Stdin bool `help:"Read the password from the first line of stdin (for scripts)."`
}

// Help shows an example.
func (DashboardPasswdCmd) Help() string {
	return "Example:\n  budgie dashboard passwd\n  printf '%s\\n' \"$PW\" | budgie --headless dashboard passwd --stdin"
}

// Run reads the password (twice on a terminal) and sets it.
func (c *DashboardPasswdCmd) Run(g *Globals, eng *engine.Engine) error {
	pw, err := readNewPassword(c.Stdin)
	if err != nil {
		return err
	}
	if err := eng.SetDashboardPassword(g.ctx, pw); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "dashboard password set")
	return nil
}

// readNewPassword reads a password from stdin's first line, or twice from
// the terminal.
func readNewPassword(stdin bool) (string, error) {
	if stdin {
		line, err := bufio.NewReader(io.LimitReader(os.Stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", fmt.Errorf("stdin is not a terminal (pass --stdin to read the password from it): %w", errdefs.ErrInvalid)
	}
	fmt.Fprintf(os.Stderr, "New dashboard password (at least %d characters): ", webauth.MinPasswordLen)
	a, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(os.Stderr, "Again: ")
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	if string(a) != string(b) {
		return "", fmt.Errorf("the two passwords differ: %w", errdefs.ErrInvalid)
	}
	return string(a), nil
}
