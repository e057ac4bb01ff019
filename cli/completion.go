package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/posener/complete"
	"github.com/willabides/kongplete"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/engine/runtime"
)

// CompletionCmd prints the script that hooks budgie's completion into a
// shell.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"The shell: bash, zsh or fish."`
}

// Help shows how to install each script.
func (CompletionCmd) Help() string {
	return `The shell asks budgie itself what completes the line (commands, flags, and container,
image, network, secret and peer names from the engine; never starting a containerd).

Examples:
  source <(budgie completion bash)        # or add that line to ~/.bashrc
  source <(budgie completion zsh)         # in ~/.zshrc
  budgie completion fish > ~/.config/fish/completions/budgie.fish`
}

// Run prints the script for c.Shell.
func (c *CompletionCmd) Run() error {
	exe, err := os.Executable()
	if err != nil {
		exe = "budgie"
	}
	q := shellQuote(exe)
	switch c.Shell {
	case "bash":
		fmt.Printf("complete -o default -C %s budgie\n", q)
	case "zsh":
		fmt.Printf("(( $+functions[compdef] )) || { autoload -U compinit && compinit -u }\nautoload -U +X bashcompinit && bashcompinit\ncomplete -o default -C %s budgie\n", q)
	case "fish":
		fmt.Printf(`function __complete_budgie
    set -lx COMP_LINE (commandline -cp)
    test -z (commandline -ct)
    and set COMP_LINE "$COMP_LINE "
    %s
end
complete -f -c budgie -a "(__complete_budgie)"
`, q)
	}
	return nil
}

// shellQuote quotes s for sh, zsh and fish alike.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// completeLine answers the shell when it asks for completions (COMP_LINE
// is set): it prints the candidates and exits. Otherwise it returns.
func completeLine(parser *kong.Kong, g *Globals) {
	if os.Getenv("COMP_LINE") == "" {
		return
	}
	names := func(list func(ctx context.Context, eng *engine.Engine) ([]string, error)) complete.Predictor {
		return complete.PredictFunc(func(complete.Args) []string {
			return engineNames(g, list)
		})
	}
	kongplete.Complete(parser,
		kongplete.WithPredictor("container", names(func(ctx context.Context, eng *engine.Engine) ([]string, error) {
			cs, err := eng.Containers(ctx, runtime.ListOptions{All: true})
			out := make([]string, len(cs))
			for i, c := range cs {
				out[i] = c.Name
			}
			return out, err
		})),
		kongplete.WithPredictor("image", names(func(ctx context.Context, eng *engine.Engine) ([]string, error) {
			imgs, err := eng.Images(ctx, images.ListOptions{})
			out := make([]string, len(imgs))
			for i, im := range imgs {
				out[i] = im.Name
			}
			return out, err
		})),
		kongplete.WithPredictor("network", names(func(ctx context.Context, eng *engine.Engine) ([]string, error) {
			nets, err := eng.Networks(ctx)
			out := make([]string, len(nets))
			for i, n := range nets {
				out[i] = n.Name
			}
			return out, err
		})),
		kongplete.WithPredictor("secret", names(func(ctx context.Context, eng *engine.Engine) ([]string, error) {
			ss, err := eng.Secrets(ctx)
			out := make([]string, len(ss))
			for i, s := range ss {
				out[i] = s.Name
			}
			return out, err
		})),
		kongplete.WithPredictor("peer", names(func(ctx context.Context, eng *engine.Engine) ([]string, error) {
			res, err := eng.Peers(ctx, engine.PeersOptions{Timeout: 500 * time.Millisecond})
			var out []string
			for _, n := range res.Nodes {
				if n.Local {
					continue
				}
				for _, c := range n.Containers {
					out = append(out, c.Name+"@"+n.Name)
				}
			}
			return out, err
		})),
		kongplete.WithPredictor("file", complete.PredictFiles("*")),
		kongplete.WithPredictor("bundle", complete.PredictOr(complete.PredictFiles("*.bun"), complete.PredictDirs("*"))),
	)
}

// engineNames lists names for a completion from a containerd that
// already answers (never starting one), within a second; on any error
// there are no candidates.
func engineNames(g *Globals, list func(ctx context.Context, eng *engine.Engine) ([]string, error)) []string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	cfg, err := g.LoadConfig()
	if err != nil {
		return nil
	}
	eng, err := engine.Open(ctx, cfg, engine.OpenOptions{NoStart: true})
	if err != nil {
		return nil
	}
	defer eng.Close()
	out, _ := list(ctx, eng)
	return out
}
