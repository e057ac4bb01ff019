package theme

import (
	"os"
	"testing"

	"github.com/charmbracelet/lipgloss"

	"github.com/budgie-sh/budgie/models"
)

func TestNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	s := New("dark")
	if _, ok := s.Title.GetForeground().(lipgloss.NoColor); !ok {
		t.Errorf("NO_COLOR: title has colour %v", s.Title.GetForeground())
	}
	if s.State(models.StateRunning).GetForeground() != (lipgloss.NoColor{}) {
		t.Error("NO_COLOR: running state is coloured")
	}
}

func TestThemes(t *testing.T) {
	tests := []struct {
		name Name
		want lipgloss.TerminalColor
	}{
		{"dark", lipgloss.Color("#A78BFA")},
		{"light", lipgloss.Color("#6D28D9")},
		{"auto", lipgloss.AdaptiveColor{Light: "#6D28D9", Dark: "#A78BFA"}},
		{"", lipgloss.AdaptiveColor{Light: "#6D28D9", Dark: "#A78BFA"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.name), func(t *testing.T) {
			if _, set := os.LookupEnv("NO_COLOR"); set {
				t.Setenv("NO_COLOR", "")
				os.Unsetenv("NO_COLOR")
			}
			if got := New(tt.name).Title.GetForeground(); got != tt.want {
				t.Errorf("title colour = %v, want %v", got, tt.want)
			}
		})
	}
}
