// Package images is nest's image view: the local images, sortable by name,
// size and date; pulling a reference with a progress bar per layer; loading
// an image archive; and removing an image after a confirmation.
package images

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	engimages "github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// mode is what the view is doing.
type mode int

const (
	browsing mode = iota
	askPull
	askLoad
)

// sortKey is the column the list is sorted by.
type sortKey int

const (
	byDate sortKey = iota
	bySize
	byName
)

// Messages of the view's commands.
type (
	listMsg struct {
		gen    int
		images []models.Image
		err    error
	}
	loadedMsg struct {
		images []models.Image
		err    error
	}
	removedMsg struct {
		ref string
		err error
	}
)

// Model implements common.Component.
var (
	_ common.Component     = (*Model)(nil)
	_ common.InputCapturer = (*Model)(nil)
)

// Model is the images view. Use New; the zero value is not usable.
type Model struct {
	c             common.Common
	keys          keyMap
	width, height int
	now           func() time.Time
	images        []models.Image
	listGen       int
	loaded        bool
	err           error
	sortBy        sortKey
	desc          bool
	cursor        int
	mode          mode
	input         textinput.Model
	pull          *pull
	pullSeq       int
}

// New returns the images view; Init lists the images.
func New(c common.Common) *Model {
	in := textinput.New()
	in.Cursor.SetMode(cursor.CursorStatic)
	return &Model{c: c, keys: newKeyMap(c), now: c.Now, desc: true, input: in}
}

// Init lists the images.
func (m *Model) Init() tea.Cmd { return m.list() }

// SetSize sets the cells the view may draw in.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.input.Width = max(width-20, 10)
}

// CapturingInput reports whether a prompt takes the keys as text, so that
// the root model passes every key here (common.InputCapturer).
func (m *Model) CapturingInput() bool { return m.mode == askPull || m.mode == askLoad }

func (m *Model) ctx() context.Context {
	if m.c.Ctx != nil {
		return m.c.Ctx
	}
	return context.Background()
}

// list asks the backend for the images, tagged with a new generation.
func (m *Model) list() tea.Cmd {
	m.listGen++
	gen, ctx, backend := m.listGen, m.ctx(), m.c.Backend
	return func() tea.Msg {
		imgs, err := backend.Images(ctx, engimages.ListOptions{})
		return listMsg{gen: gen, images: imgs, err: err}
	}
}

// Update handles keys and the results of listing, pulling, loading and removing.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case listMsg:
		if msg.gen == m.listGen {
			m.onList(msg)
		}
	case pullMsg:
		return m, m.onPullProgress(msg)
	case pullDoneMsg:
		return m, m.onPullDone(msg)
	case loadedMsg:
		if msg.err != nil {
			return m, common.ErrorCmd(msg.err)
		}
		return m, tea.Batch(m.list(), toast(fmt.Sprintf("loaded %d image(s)", len(msg.images))))
	case removedMsg:
		if msg.err != nil {
			return m, common.ErrorCmd(msg.err)
		}
		return m, tea.Batch(m.list(), toast("removed "+msg.ref))
	case tea.KeyMsg:
		return m, m.onKey(msg)
	}
	return m, nil
}

func toast(text string) tea.Cmd { return func() tea.Msg { return common.ToastMsg{Text: text} } }

// onList shows a new listing, keeping the cursor on the same image.
func (m *Model) onList(msg listMsg) {
	m.loaded, m.err = true, msg.err
	if msg.err != nil {
		return
	}
	selected := m.selected().Name
	m.images = msg.images
	m.sortImages()
	m.cursor = common.CursorAfterReload(m.images, m.cursor, selected, func(img models.Image) string { return img.Name })
}

// selected is the image under the cursor (zero when there is none).
func (m *Model) selected() models.Image {
	if m.cursor < len(m.images) {
		return m.images[m.cursor]
	}
	return models.Image{}
}

// onKey handles a key in the current mode.
func (m *Model) onKey(msg tea.KeyMsg) tea.Cmd {
	switch m.mode {
	case askPull, askLoad:
		return m.onPromptKey(msg)
	}
	switch {
	case key.Matches(msg, m.keys.Up):
		m.cursor = max(m.cursor-1, 0)
	case key.Matches(msg, m.keys.Down):
		m.cursor = max(min(m.cursor+1, len(m.images)-1), 0)
	case key.Matches(msg, m.keys.SortName):
		m.setSort(byName)
	case key.Matches(msg, m.keys.SortSize):
		m.setSort(bySize)
	case key.Matches(msg, m.keys.SortDate):
		m.setSort(byDate)
	case key.Matches(msg, m.keys.Refresh):
		return m.list()
	case key.Matches(msg, m.keys.Pull):
		if m.pull != nil && !m.pull.finished {
			return toast("a pull is under way (esc cancels it)")
		}
		return m.prompt(askPull, "pull: ", "docker.io/library/busybox:latest")
	case key.Matches(msg, m.keys.Load):
		return m.prompt(askLoad, "load archive: ", "/path/to/images.tar")
	case key.Matches(msg, m.keys.Remove), key.Matches(msg, m.keys.ForceRemove):
		if img := m.selected(); img.Name != "" {
			force := key.Matches(msg, m.keys.ForceRemove)
			verb := "Remove"
			if force {
				verb = "Force remove"
			}
			return common.AskConfirm(verb+" image "+img.Name+"?", verb, m.remove(img.Name, force))
		}
	case key.Matches(msg, m.keys.Cancel):
		return m.cancelPull()
	}
	return nil
}

// setSort sorts by k; choosing the current key again reverses the order.
// Sizes and dates start largest and newest first, names A to Z.
func (m *Model) setSort(k sortKey) {
	if m.sortBy == k {
		m.desc = !m.desc
	} else {
		m.sortBy, m.desc = k, k != byName
	}
	selected := m.selected().Name
	m.sortImages()
	for i, img := range m.images {
		if img.Name == selected {
			m.cursor = i
		}
	}
}

// sortImages orders m.images by the sort key, ties by name.
func (m *Model) sortImages() {
	less := func(a, b models.Image) bool {
		switch m.sortBy {
		case bySize:
			if a.Size != b.Size {
				return a.Size < b.Size
			}
		case byDate:
			if !a.Created.Equal(b.Created) {
				return a.Created.Before(b.Created)
			}
		}
		return a.Name < b.Name
	}
	sort.SliceStable(m.images, func(i, j int) bool {
		if m.desc {
			return less(m.images[j], m.images[i])
		}
		return less(m.images[i], m.images[j])
	})
}

// prompt opens a one-line input.
func (m *Model) prompt(md mode, label, placeholder string) tea.Cmd {
	m.mode = md
	m.input.Prompt, m.input.Placeholder = label, placeholder
	m.input.SetValue("")
	return m.input.Focus()
}

// onPromptKey handles the pull and load inputs.
func (m *Model) onPromptKey(msg tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Cancel):
		m.mode = browsing
		m.input.Blur()
		return nil
	case key.Matches(msg, m.keys.Confirm):
		value := strings.TrimSpace(m.input.Value())
		if value == "" {
			return nil
		}
		md := m.mode
		m.mode = browsing
		m.input.Blur()
		if md == askPull {
			return m.startPull(value)
		}
		return m.load(value)
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

// load loads an image archive.
func (m *Model) load(path string) tea.Cmd {
	ctx, backend := m.ctx(), m.c.Backend
	return func() tea.Msg {
		f, err := os.Open(path)
		if err != nil {
			return loadedMsg{err: fmt.Errorf("open image archive: %w", err)}
		}
		defer f.Close()
		imgs, err := backend.LoadImages(ctx, f, engimages.LoadOptions{})
		return loadedMsg{images: imgs, err: err}
	}
}

// remove removes image ref (the root's confirm dialog runs it).
func (m *Model) remove(ref string, force bool) tea.Cmd {
	ctx, backend := m.ctx(), m.c.Backend
	return func() tea.Msg {
		_, err := backend.RemoveImages(ctx, []string{ref}, engimages.RemoveOptions{Force: force})
		return removedMsg{ref: ref, err: err}
	}
}
