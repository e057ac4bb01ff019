package app

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/containers"
	"github.com/budgie-sh/budgie/views/details"
	"github.com/budgie-sh/budgie/views/editor"
	"github.com/budgie-sh/budgie/views/images"
	"github.com/budgie-sh/budgie/views/logs"
	"github.com/budgie-sh/budgie/views/monitor"
	"github.com/budgie-sh/budgie/views/networks"
	"github.com/budgie-sh/budgie/views/peers"
	"github.com/budgie-sh/budgie/views/secrets"
)

// Tab is one top-level view in the tab bar. New builds it once, when nest starts.
type Tab struct {
	// Name is what SwitchViewMsg.View calls it ("containers").
	Name string
	// Title is shown in the tab bar.
	Title string
	// New builds the view.
	New func(c common.Common) common.Component
}

// Page is a view opened over the tabs for one container or file (logs,
// details, the editor); Esc closes it.
type Page struct {
	// Name is what SwitchViewMsg.View calls it ("logs").
	Name string
	// Title is shown in the tab bar's breadcrumb.
	Title string
	// New builds the view for the message that asked for it.
	New func(c common.Common, msg common.SwitchViewMsg) common.Component
}

// DefaultTabs are nest's tabs in order; number keys pick them. Later tabs
// (peers, networks, secrets) are added here.
func DefaultTabs() []Tab {
	return []Tab{
		{Name: "containers", Title: "Containers", New: func(c common.Common) common.Component { return containers.New(c) }},
		{Name: "images", Title: "Images", New: func(c common.Common) common.Component { return images.New(c) }},
		{Name: "monitor", Title: "Monitor", New: func(c common.Common) common.Component { return monitor.New(c) }},
		{Name: "secrets", Title: "Secrets", New: func(c common.Common) common.Component { return secrets.New(c) }},
		{Name: "networks", Title: "Networks", New: func(c common.Common) common.Component { return networks.New(c) }},
		{Name: "peers", Title: "Peers", New: func(c common.Common) common.Component { return peers.New(c) }},
	}
}

// DefaultPages are the views opened for a container or a file.
func DefaultPages() []Page {
	return []Page{
		{Name: "logs", Title: "Logs", New: func(c common.Common, msg common.SwitchViewMsg) common.Component {
			return logs.New(c, msg.ContainerID, logs.Options{})
		}},
		{Name: "details", Title: "Inspect", New: func(c common.Common, msg common.SwitchViewMsg) common.Component {
			return details.New(c, msg.ContainerID)
		}},
		{Name: "editor", Title: "Editor", New: func(c common.Common, msg common.SwitchViewMsg) common.Component {
			return editor.New(c, msg.Path)
		}},
	}
}

// capturing reports whether a view is reading text, so that global keys
// must reach it. Views say so with common.InputCapturer or InputFocused.
func capturing(v common.Component) bool {
	if c, ok := v.(common.InputCapturer); ok && c.CapturingInput() {
		return true
	}
	if c, ok := v.(interface{ InputFocused() bool }); ok && c.InputFocused() {
		return true
	}
	return false
}

// activate tells a view it is shown (common.Focusable, or SetActive).
func activate(v common.Component) tea.Cmd {
	switch v := v.(type) {
	case common.Focusable:
		return v.Focus()
	case interface{ SetActive(bool) tea.Cmd }:
		return v.SetActive(true)
	}
	return nil
}

// deactivate tells a view it is hidden.
func deactivate(v common.Component) {
	switch v := v.(type) {
	case common.Focusable:
		v.Blur()
	case interface{ SetActive(bool) tea.Cmd }:
		v.SetActive(false)
	}
}
