package help

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/budgie-sh/budgie/views/common/commontest"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

func TestRender(t *testing.T) {
	c := commontest.Common(context.Background(), commontest.New())
	c.Keys = map[string][]string{"stop": {"X"}}
	stop := c.Bind("stop", "stop", "x")
	hidden := key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "secret"))
	hidden.SetEnabled(false)
	out := Render(c, []Section{{Title: "Containers", Bindings: []key.Binding{stop, hidden}}}, 100, 30)
	if !strings.Contains(out, "X stop") {
		t.Errorf("remapped key not shown:\n%s", out)
	}
	if strings.Contains(out, "secret") {
		t.Errorf("disabled binding shown:\n%s", out)
	}
	if got := Sections("Logs", [][]key.Binding{{stop}, {stop}}); len(got) != 2 || got[0].Title != "Logs" || got[1].Title != "" {
		t.Errorf("Sections = %+v", got)
	}
}

// TestRenderGolden draws a realistic overlay (the global keys and a view's
// four groups) at 80×24 and 120×30: the box must keep its border and fit.
func TestRenderGolden(t *testing.T) {
	c := commontest.Common(context.Background(), commontest.New())
	bind := func(keys ...string) []key.Binding {
		var out []key.Binding
		for i := 0; i+1 < len(keys); i += 2 {
			out = append(out, key.NewBinding(key.WithKeys(keys[i]), key.WithHelp(keys[i], keys[i+1])))
		}
		return out
	}
	sections := append([]Section{{Title: "Global", Bindings: bind("?", "help", ":", "command", "tab", "next view",
		"shift+tab", "previous view", "esc", "back", "q", "quit", "ctrl+c", "quit", "1-6", "view 1-6")}},
		Sections("Containers", [][]key.Binding{
			bind("up", "up", "down", "down", "pgup", "page up", "pgdown", "page down", "home", "first", "end", "last"),
			bind("enter", "inspect", "l", "logs", "s", "shell", "y", "copy ID", "/", "filter (~regex)", "esc", "clear filter/selection"),
			bind("u", "start", "x", "stop", "ctrl+r", "restart", "ctrl+d", "remove", "r", "run bundle", "n", "new bundle"),
			bind(">", "sort by next column", "<", "sort by previous column", "N", "sort by name", "I", "sort by image",
				"S", "sort by state", "U", "sort by uptime", "C", "sort by CPU", "M", "sort by memory", "O", "sort by node"),
		})...)
	for _, size := range commontest.Sizes {
		t.Run(fmt.Sprintf("%dx%d", size.Width, size.Height), func(t *testing.T) {
			out := Render(c, sections, size.Width, size.Height)
			commontest.RequireFits(t, out, size.Width, size.Height)
			if !strings.HasSuffix(strings.TrimRight(out, " "), "╯") {
				t.Errorf("the box lost its bottom border:\n%s", out)
			}
			golden.RequireEqual(t, []byte(out))
		})
	}
}

// TestRenderTooTall: when even the compact layout is too tall, the box
// ends in a "…" line and keeps its border.
func TestRenderTooTall(t *testing.T) {
	c := commontest.Common(context.Background(), commontest.New())
	var many []key.Binding
	for i := range 40 {
		many = append(many, key.NewBinding(key.WithKeys(fmt.Sprint(i)), key.WithHelp(fmt.Sprint(i), "action")))
	}
	out := Render(c, []Section{{Title: "Many", Bindings: many}}, 80, 24)
	commontest.RequireFits(t, out, 80, 24)
	if !strings.Contains(out, "… (a taller terminal shows every key)") || !strings.HasSuffix(strings.TrimRight(out, " "), "╯") {
		t.Errorf("want a cut box with its border:\n%s", out)
	}
}
