package theme

import (
	"io"
	"os"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

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

// TestConverterDrawsTheSame checks that a colour converted once at start
// draws byte for byte as Lip Gloss draws the hex colour itself, on every
// profile.
func TestConverterDrawsTheSame(t *testing.T) {
	hexes := []string{"#6D28D9", "#A78BFA", "#1F2937", "#E5E7EB", "#6B7280", "#9CA3AF", "#DDD6FE", "#4C1D95",
		"#047857", "#34D399", "#B91C1C", "#F87171", "#B45309", "#FBBF24", "#1D4ED8", "#60A5FA", "#000000", "#FFFFFF"}
	for _, p := range []termenv.Profile{termenv.TrueColor, termenv.ANSI256, termenv.ANSI, termenv.Ascii} {
		r := lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(p)
		conv := converter(p)
		for _, hex := range hexes {
			want := r.NewStyle().Foreground(lipgloss.Color(hex)).Background(lipgloss.Color(hex)).Render("x")
			got := r.NewStyle().Foreground(lipgloss.Color(conv(hex))).Background(lipgloss.Color(conv(hex))).Render("x")
			if got != want {
				t.Errorf("profile %d, %s → %q: drawn %q, want %q", p, hex, conv(hex), got, want)
			}
		}
	}
	if got := converter(termenv.ANSI256)("#A78BFA"); got == "#A78BFA" {
		t.Errorf("256 colours: %s kept as hex, want a palette index", got)
	}
}
