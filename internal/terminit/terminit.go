// Package terminit keeps budgie from querying the terminal when it starts.
//
// Bubble Tea v1's package init asks Lip Gloss whether the terminal's
// background is dark. That writes an OSC 11 query and a cursor position
// request to stdout, then waits for the answers, in every process that
// links Bubble Tea: `budgie --headless ps` included. A script's terminal
// gets escape codes, and a terminal that never answers (a CI pty, a serial
// console) holds the command for termenv's timeout and swallows what is
// typed meanwhile.
//
// Imported first by main (blank import), its init marks the background as
// already known, so the query never runs. Package initialisation takes the
// ready packages in import-path order, and this path sorts before
// github.com/charmbracelet/bubbletea. nest asks for the real background
// itself, and only when ui.theme is auto (theme.DetectBackground).
package terminit

import "github.com/charmbracelet/lipgloss"

func init() { lipgloss.SetHasDarkBackground(true) }
