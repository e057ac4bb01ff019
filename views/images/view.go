package images

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/lipgloss"
	"github.com/dustin/go-humanize"

	engimages "github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Columns of the list (see common.FitColumns), each of a fixed width; the
// repository takes what is left. On a narrow terminal IMAGE ID goes
// first, then CREATED, SIZE and TAG; REPOSITORY always stays.
const (
	colRepo = iota
	colTag
	colID
	colCreated
	colSize
)

var columns = []common.Column{
	colRepo:    {Title: "REPOSITORY", Min: 20, Max: 20},
	colTag:     {Title: "TAG", Min: 16, Max: 16, Priority: 1},
	colID:      {Title: "IMAGE ID", Min: 12, Max: 12, Priority: 4},
	colCreated: {Title: "CREATED", Min: 15, Max: 15, Priority: 3},
	colSize:    {Title: "SIZE", Min: 9, Max: 9, Priority: 2, Right: true},
}

const (
	barW = 30
	// maxLayers is how many layer lines the pull panel shows.
	maxLayers = 8
)

// View draws the list, the pull panel and any prompt or dialog.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	var bottom []string
	if m.mode == askPull || m.mode == askLoad {
		bottom = append(bottom, "", m.input.View())
	}
	bottom = append(bottom, m.pullView()...)
	top := []string{m.title(), ""}
	rows := m.table(m.height - len(top) - len(bottom))
	out := strings.Join(append(append(top, rows...), bottom...), "\n")
	return common.Clip(out, m.width, m.height)
}

// title counts the images and their size.
func (m *Model) title() string {
	var total int64
	for _, img := range m.images {
		total += img.Size
	}
	return m.c.Styles.Title.Render("Images") +
		m.c.Styles.Dim.Render(fmt.Sprintf("  %d image(s) · %s", len(m.images), humanize.Bytes(uint64(total))))
}

// table is the header and as many rows as fit in height lines, scrolled to
// keep the cursor visible.
func (m *Model) table(height int) []string {
	s := m.c.Styles
	switch {
	case m.err != nil:
		return []string{s.ToastError.Render("cannot list images: " + m.err.Error())}
	case !m.loaded:
		return []string{s.Dim.Render("loading…")}
	case len(m.images) == 0:
		return []string{s.Dim.Render("no images — p pulls one, L loads an archive")}
	}
	ws := common.FitColumns(columns, nil, m.width, colRepo)
	out := []string{s.Header.Render(common.Row(columns, []string{colRepo: m.label(byName, "REPOSITORY"), colTag: "TAG", colID: "IMAGE ID",
		colCreated: m.label(byDate, "CREATED"), colSize: m.label(bySize, "SIZE")}, ws))}
	shown := max(min(len(m.images), height-1), 1)
	first := min(max(m.cursor-shown+1, 0), len(m.images)-shown)
	for i := first; i < first+shown; i++ {
		img := m.images[i]
		line := common.Row(columns, []string{colRepo: img.Repository, colTag: img.Tag, colID: shortID(img.ID),
			colCreated: humanize.RelTime(img.Created, m.now(), "ago", "from now"), colSize: humanize.Bytes(uint64(img.Size))}, ws)
		if i == m.cursor {
			out = append(out, s.Selected.Render(line))
		} else {
			out = append(out, s.Row.Render(line))
		}
	}
	return out
}

// label marks the sorted column with its direction.
func (m *Model) label(k sortKey, name string) string {
	if m.sortBy != k {
		return name
	}
	if m.desc {
		return name + " ↓"
	}
	return name + " ↑"
}

// pullView is the progress of a pull: one bar per layer.
func (m *Model) pullView() []string {
	p := m.pull
	if p == nil || (p.finished && p.err == nil) {
		return nil
	}
	s := m.c.Styles
	if p.err != nil {
		return []string{"", s.ToastError.UnsetBorderStyle().UnsetPadding().Render("pull " + p.ref + " failed: " + p.err.Error())}
	}
	out := []string{"", s.Title.Render("Pulling "+p.ref) + s.Dim.Render("  (esc cancels)")}
	bar := progress.New(progress.WithoutPercentage(), progress.WithWidth(barW), progress.WithSolidFill("#A78BFA"))
	for i, layer := range p.layers {
		if i == maxLayers {
			out = append(out, s.Dim.Render(fmt.Sprintf("  … %d more layer(s)", len(p.layers)-maxLayers)))
			break
		}
		pp := p.progress[layer]
		frac := 0.0
		switch {
		case pp.Status == "done" || pp.Status == "exists":
			frac = 1
		case pp.Total > 0:
			frac = float64(pp.Offset) / float64(pp.Total)
		}
		out = append(out, fmt.Sprintf("  %-12s %-11s %s %3.0f%% %s", cut(layer, 12), pp.Status, bar.ViewAs(frac), frac*100,
			s.Dim.Render(sizes(pp))))
	}
	if len(p.layers) == 0 {
		out = append(out, s.Dim.Render("  resolving…"))
	}
	return out
}

// sizes is "offset / total" of a layer, when the total is known.
func sizes(pp engimages.Progress) string {
	if pp.Total <= 0 {
		return ""
	}
	return humanize.Bytes(uint64(pp.Offset)) + " / " + humanize.Bytes(uint64(pp.Total))
}

// shortID is the first 12 hex digits of a digest.
func shortID(id string) string {
	_, hex, found := strings.Cut(id, ":")
	if !found {
		hex = id
	}
	return models.ShortID(hex)
}

// cut shortens s to w cells, marking the cut with an ellipsis.
func cut(s string, w int) string {
	if lipgloss.Width(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && lipgloss.Width(string(r))+1 > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
