package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/budgie-sh/budgie/engine/images"
)

// maxPassword bounds a password read from standard input.
const maxPassword = 64 << 10

// LoginCmd stores credentials for a registry.
type LoginCmd struct {
	Registry      string `arg:"" help:"Registry host: HOST[:PORT] (docker.io for Docker Hub)."`
	Username      string `short:"u" placeholder:"USER" help:"User name (asked for on a terminal when not given)."`
	PasswordStdin bool   `help:"Read the password from standard input (otherwise it is asked for, unechoed, on a terminal)."`
}

// Help is the detail and example under the command's --help.
func (*LoginCmd) Help() string {
	return `Checks the user name and password against the registry (GET /v2/ with
basic auth or the registry's token flow) and stores them only when the
registry accepts them. budgie pull and push then use them for that host.

They are kept in auth.json under the user's configuration directory
(~/.config/budgie/auth.json, mode 0600), in docker's config.json "auths"
shape: base64 of USER:PASSWORD — encoded, not encrypted, so protect the
file as you would the password. Budgie never prints them.

Example:
  printf '%s' "$REGISTRY_PASSWORD" | budgie --headless login -u ci --password-stdin registry.lan:5000
  Login Succeeded`
}

// Run reads the credentials, verifies and stores them.
func (c *LoginCmd) Run(g *Globals) error {
	user, password, err := c.credentials(os.Stdin, os.Stderr)
	if err != nil {
		return err
	}
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	_, err = images.Login(g.ctx, images.LoginOptions{
		Registry: c.Registry, Username: user, Password: password, Insecure: cfg.Registries.Insecure,
	})
	if err != nil {
		return err
	}
	fmt.Println("Login Succeeded")
	return nil
}

// credentials returns the user name and the password: from the flags and
// standard input, or asked for on the terminal in is.
func (c *LoginCmd) credentials(in *os.File, prompt io.Writer) (string, string, error) {
	user := c.Username
	interactive := term.IsTerminal(int(in.Fd()))
	if c.PasswordStdin {
		if user == "" {
			return "", "", fmt.Errorf("--password-stdin needs the user name too (add -u USER): %w", errInvalid)
		}
		data, err := io.ReadAll(io.LimitReader(in, maxPassword))
		if err != nil {
			return "", "", fmt.Errorf("read the password: %w", err)
		}
		return user, strings.TrimRight(string(data), "\r\n"), nil
	}
	if !interactive {
		return "", "", fmt.Errorf("standard input is not a terminal, so budgie cannot ask for the password (pipe it in: budgie login -u USER --password-stdin HOST): %w", errInvalid)
	}
	if user == "" {
		fmt.Fprint(prompt, "Username: ")
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil {
			return "", "", fmt.Errorf("read the user name: %w", err)
		}
		user = strings.TrimSpace(line)
	}
	fmt.Fprint(prompt, "Password: ")
	p, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(prompt)
	if err != nil {
		return "", "", fmt.Errorf("read the password: %w", err)
	}
	return user, string(p), nil
}

// LogoutCmd removes the stored credentials of a registry.
type LogoutCmd struct {
	Registry string `arg:"" help:"Registry host: HOST[:PORT] (docker.io for Docker Hub)."`
}

// Help is the detail and example under the command's --help.
func (*LogoutCmd) Help() string {
	return `Removes what budgie login stored for the registry from
~/.config/budgie/auth.json; pull and push are anonymous there again.

Example:
  budgie --headless logout registry.lan:5000
  Removing login credentials for registry.lan:5000`
}

// Run removes the credentials.
func (c *LogoutCmd) Run() error {
	host, err := images.Logout(c.Registry, "")
	if err != nil {
		return err
	}
	fmt.Printf("Removing login credentials for %s\n", host)
	return nil
}
