package help

import (
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"

	"github.com/budgie-sh/budgie/views/common/commontest"
)

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
