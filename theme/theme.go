// Package theme holds nest's lipgloss styles: adaptive colours that suit
// dark and light terminals, an explicit dark or light choice, and no colour
// at all when NO_COLOR is set.
package theme

import (
	"os"
	"strconv"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/budgie-sh/budgie/models"
)

// Styles are every style nest draws with. Views take them from
// common.Common; none keeps its own.
type Styles struct {
	// App frames the whole screen.
	App lipgloss.Style
	// Title is a view's title; TabActive and TabInactive are the view tabs.
	Title, TabActive, TabInactive lipgloss.Style
	// Header is a table header; Row a row; Selected the cursor row; Marked a multi-selected row.
	Header, Row, Selected, Marked lipgloss.Style
	// StatusBar is the bottom bar; StatusKey a key name in it.
	StatusBar, StatusKey lipgloss.Style
	// Toast shows a message; ToastError an error; Error is error text inline.
	Toast, ToastError, Error lipgloss.Style
	// Dim is secondary text; Match a search match; Border a panel border.
	Dim, Match, Border lipgloss.Style
	// Dialog frames confirm dialogs and overlays.
	Dialog lipgloss.Style
	// states colour container states.
	states map[models.ContainerState]lipgloss.Style
}

// State returns the style of a container state.
func (s *Styles) State(st models.ContainerState) lipgloss.Style {
	if style, ok := s.states[st]; ok {
		return style
	}
	return s.Dim
}

// DetectBackground asks the terminal on stdout for its background colour
// (OSC 11) and tells Lip Gloss whether it is dark, for the auto theme's
// adaptive colours; nest calls it before its program starts, and only when
// ui.theme is auto. A terminal that does not answer counts as dark.
func DetectBackground() {
	lipgloss.SetHasDarkBackground(termenv.NewOutput(os.Stdout).HasDarkBackground())
}

// Name is a theme choice: "dark", "light" or "auto".
type Name string

// New builds the styles for a theme name ("" means auto). NO_COLOR in the
// environment (any value) turns colours off.
func New(name Name) *Styles {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return plain()
	}
	conv := converter(lipgloss.ColorProfile())
	pick := func(light, dark string) lipgloss.TerminalColor {
		light, dark = conv(light), conv(dark)
		switch name {
		case "dark":
			return lipgloss.Color(dark)
		case "light":
			return lipgloss.Color(light)
		}
		return lipgloss.AdaptiveColor{Light: light, Dark: dark}
	}
	accent := pick("#6D28D9", "#A78BFA")
	fg := pick("#1F2937", "#E5E7EB")
	dim := pick("#6B7280", "#9CA3AF")
	selBg := pick("#DDD6FE", "#4C1D95")
	barBg := pick("#E5E7EB", "#1F2937")
	green, red, yellow, blue := pick("#047857", "#34D399"), pick("#B91C1C", "#F87171"), pick("#B45309", "#FBBF24"), pick("#1D4ED8", "#60A5FA")
	s := &Styles{
		App:         lipgloss.NewStyle(),
		Title:       lipgloss.NewStyle().Bold(true).Foreground(accent),
		TabActive:   lipgloss.NewStyle().Bold(true).Foreground(accent).Underline(true).Padding(0, 1),
		TabInactive: lipgloss.NewStyle().Foreground(dim).Padding(0, 1),
		Header:      lipgloss.NewStyle().Bold(true).Foreground(dim),
		Row:         lipgloss.NewStyle().Foreground(fg),
		Selected:    lipgloss.NewStyle().Bold(true).Background(selBg),
		Marked:      lipgloss.NewStyle().Foreground(accent),
		StatusBar:   lipgloss.NewStyle().Background(barBg).Foreground(fg),
		StatusKey:   lipgloss.NewStyle().Background(barBg).Foreground(accent).Bold(true),
		Toast:       lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(green).Padding(0, 1),
		ToastError:  lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(red).Foreground(red).Padding(0, 1),
		Error:       lipgloss.NewStyle().Foreground(red),
		Dim:         lipgloss.NewStyle().Foreground(dim),
		Match:       lipgloss.NewStyle().Background(yellow).Foreground(lipgloss.Color(conv("#000000"))),
		Border:      lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(dim),
		Dialog:      lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(1, 2),
	}
	s.states = map[models.ContainerState]lipgloss.Style{
		models.StateRunning:    lipgloss.NewStyle().Foreground(green),
		models.StateExited:     lipgloss.NewStyle().Foreground(red),
		models.StatePaused:     lipgloss.NewStyle().Foreground(yellow),
		models.StateRestarting: lipgloss.NewStyle().Foreground(yellow),
		models.StateCreated:    lipgloss.NewStyle().Foreground(blue),
	}
	return s
}

// converter returns a function that turns a "#rrggbb" colour into the
// nearest colour of profile, as Lip Gloss would when drawing, so that it is
// worked out once here rather than on every Render: on a 256-colour
// terminal, termenv finds the nearest palette entry by HSLuv distance, and
// that search was 15 % of an idle nest's CPU. A true-colour or colourless
// profile keeps the hex string.
func converter(profile termenv.Profile) func(hex string) string {
	if profile != termenv.ANSI256 && profile != termenv.ANSI {
		return func(hex string) string { return hex }
	}
	return func(hex string) string {
		switch c := profile.Color(hex).(type) {
		case termenv.ANSI256Color:
			return strconv.Itoa(int(c))
		case termenv.ANSIColor:
			return strconv.Itoa(int(c))
		}
		return hex
	}
}

// plain is the NO_COLOR theme: emphasis by weight and reverse video only.
func plain() *Styles {
	n := lipgloss.NewStyle()
	return &Styles{
		App: n, Title: n.Bold(true), TabActive: n.Bold(true).Underline(true).Padding(0, 1), TabInactive: n.Padding(0, 1),
		Header: n.Bold(true), Row: n, Selected: n.Reverse(true), Marked: n.Bold(true),
		StatusBar: n, StatusKey: n.Bold(true),
		Toast: n.Border(lipgloss.NormalBorder()).Padding(0, 1), ToastError: n.Border(lipgloss.NormalBorder()).Padding(0, 1), Error: n.Bold(true),
		Dim: n, Match: n.Reverse(true), Border: n.Border(lipgloss.NormalBorder()), Dialog: n.Border(lipgloss.NormalBorder()).Padding(1, 2),
		states: map[models.ContainerState]lipgloss.Style{},
	}
}
