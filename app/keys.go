package app

import (
	"github.com/charmbracelet/bubbles/key"

	"github.com/budgie-sh/budgie/views/common"
)

// globalKeys work in every view (unless it is reading text).
type globalKeys struct {
	Quit, ForceQuit, Help, Palette, Back, NextTab, PrevTab key.Binding
	Tabs                                                   []key.Binding
}

func newGlobalKeys(c common.Common, n int) globalKeys {
	k := globalKeys{
		Quit:      c.Bind("quit", "quit", "q"),
		ForceQuit: c.Bind("force_quit", "quit", "ctrl+c"),
		Help:      c.Bind("help", "help", "?"),
		Palette:   c.Bind("palette", "command", ":"),
		Back:      c.Bind("back", "back", "esc"),
		NextTab:   c.Bind("next_tab", "next view", "tab"),
		PrevTab:   c.Bind("prev_tab", "previous view", "shift+tab"),
	}
	for i := 1; i <= min(n, 9); i++ {
		d := string(rune('0' + i))
		k.Tabs = append(k.Tabs, c.Bind("tab_"+d, "view "+d, d))
	}
	return k
}

func (k globalKeys) list() []key.Binding {
	return []key.Binding{k.Help, k.Palette, k.NextTab, k.PrevTab, k.Back, k.Quit, k.ForceQuit}
}
