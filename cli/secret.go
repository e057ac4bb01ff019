package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/secrets"
)

// SecretCmd groups the secret commands.
type SecretCmd struct {
	Create  SecretCreateCmd  `cmd:"" help:"Create a secret from a file or standard input."`
	Ls      SecretLsCmd      `cmd:"" aliases:"list" help:"List secrets (never their values)."`
	Inspect SecretInspectCmd `cmd:"" help:"Show secrets' metadata as JSON; the value only with --reveal."`
	Rm      SecretRmCmd      `cmd:"" aliases:"remove" help:"Remove secrets."`
}

// SecretCreateCmd creates a secret, as docker secret create.
type SecretCreateCmd struct {
	Name  string   `arg:"" help:"Secret name."`
	File  string   `arg:"" optional:"" default:"-" help:"File holding the value; - (the default) reads standard input."`
	Label []string `short:"l" help:"Label KEY=VALUE (repeatable)."`
}

// Run reads the value (asking for it without echo when standard input is
// a terminal), seals it and prints the name.
func (c *SecretCreateCmd) Run(g *Globals) error {
	if err := secrets.ValidName(c.Name); err != nil {
		return err
	}
	labels, err := parseLabels(c.Label)
	if err != nil {
		return err
	}
	value, err := readSecretValue(c.File)
	if err != nil {
		return err
	}
	defer clear(value)
	eng, err := g.Engine()
	if err != nil {
		return err
	}
	if _, err := eng.SecretStore.Create(g.ctx, c.Name, value, secrets.CreateOptions{Labels: labels}); err != nil {
		return err
	}
	fmt.Println(c.Name)
	return nil
}

func parseLabels(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("bad label %q (use KEY=VALUE): %w", kv, errInvalid)
		}
		out[k] = v
	}
	return out, nil
}

// readSecretValue reads file, or standard input for "-" (without echo on a terminal).
func readSecretValue(file string) ([]byte, error) {
	if file == "-" && term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Fprint(os.Stderr, "Secret value: ")
		v, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, fmt.Errorf("read the secret value: %w", err)
		}
		return v, nil
	}
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("open secret file: %w: %w", err, errInvalid)
		}
		defer f.Close()
		r = f
	}
	v, err := io.ReadAll(io.LimitReader(r, secrets.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read the secret value: %w", err)
	}
	return v, nil
}

// secretsPassphrase is the engine's passphrase source: the environment
// variable, else — except while the key is generated, and except when a
// full-screen program owns the terminal — a hidden prompt on /dev/tty.
func secretsPassphrase(generating bool) (string, error) {
	if p := os.Getenv(secrets.EnvPassphrase); p != "" || generating {
		return p, nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", nil
	}
	defer tty.Close()
	fd := int(tty.Fd())
	st, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil || st.Lflag&unix.ICANON == 0 {
		return "", nil // not a terminal, or nest has it in raw mode
	}
	fmt.Fprint(tty, "Secrets passphrase: ")
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(tty)
	return string(p), err
}

// SecretLsCmd lists secrets.
type SecretLsCmd struct {
	Quiet  bool   `short:"q" help:"Only display names."`
	Format string `help:"Output format: table, json, or a Go template such as '{{.Name}} {{.Size}}'." default:"table"`
}

// Run lists secrets: NAME, SIZE, CREATED, USED BY.
func (c *SecretLsCmd) Run(g *Globals, eng *engine.Engine) error {
	list, err := eng.SecretStore.List(g.ctx)
	if err != nil {
		return err
	}
	if c.Quiet {
		for _, s := range list {
			fmt.Println(s.Name)
		}
		return nil
	}
	return printList(os.Stdout, c.Format, list, func(out io.Writer) error { return secretsTable(out, list) })
}

// secretsTable writes the secret ls table; a secret that cannot be read
// says why instead of its size and dates.
func secretsTable(out io.Writer, list []secrets.Secret) error {
	w := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "NAME\tSIZE\tCREATED\tUSED BY")
	for _, s := range list {
		if s.Error != "" {
			fmt.Fprintf(w, "%s\t?\t?\tdamaged: %s\n", s.Name, s.Error)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Name, humanSize(int64(s.Size)), ago(s.Created), strings.Join(s.UsedBy, ", "))
	}
	return w.Flush()
}

// SecretInspectCmd shows secrets as JSON.
type SecretInspectCmd struct {
	Names  []string `arg:"" name:"name" predictor:"secret" help:"Secret names."`
	Reveal bool     `help:"Include the value (as value, or value_base64 when it is not UTF-8)."`
}

// secretJSON is inspect's shape: the metadata, and the value when revealed.
type secretJSON struct {
	secrets.Secret
	Value       *string `json:"value,omitempty"`
	ValueBase64 []byte  `json:"value_base64,omitempty"`
}

// Run prints a JSON array with one object per secret, after authenticating each.
func (c *SecretInspectCmd) Run(g *Globals, eng *engine.Engine) error {
	out := []secretJSON{}
	err := eachContainer(c.Names, func(name string) error {
		s, err := eng.SecretStore.Inspect(g.ctx, name)
		if err != nil {
			return err
		}
		item := secretJSON{Secret: s}
		if c.Reveal {
			v, err := eng.SecretStore.Reveal(g.ctx, name)
			if err != nil {
				return err
			}
			if utf8.Valid(v) {
				str := string(v)
				item.Value = &str
			} else {
				item.ValueBase64 = v
			}
		}
		out = append(out, item)
		return nil
	})
	if len(out) > 0 || err == nil {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "    ")
		if perr := enc.Encode(out); perr != nil {
			return perr
		}
	}
	return err
}

// SecretRmCmd removes secrets.
type SecretRmCmd struct {
	Names []string `arg:"" name:"name" predictor:"secret" help:"Secret names."`
	Force bool     `short:"f" help:"Remove even while running containers use them."`
}

// Run removes each secret, printing its name.
func (c *SecretRmCmd) Run(g *Globals, eng *engine.Engine) error {
	return eachContainer(c.Names, func(name string) error {
		if err := eng.SecretStore.Remove(g.ctx, name, secrets.RemoveOptions{Force: c.Force}); err != nil {
			return err
		}
		fmt.Println(name)
		return nil
	})
}
