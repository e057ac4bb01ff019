package app

import (
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// toastTTL is how long a toast stays; errors stay longer.
const (
	toastTTL = 4 * time.Second
	errorTTL = 8 * time.Second
)

type toast struct {
	id    int
	text  string
	isErr bool
}

// toastExpiredMsg removes toast id.
type toastExpiredMsg struct{ id int }

// addToast shows text and schedules its removal (the only timer the root runs).
func (m *Model) addToast(text string, isErr bool) tea.Cmd {
	m.toastSeq++
	id := m.toastSeq
	m.toasts = append(m.toasts, toast{id: id, text: text, isErr: isErr})
	if len(m.toasts) > 3 {
		m.toasts = m.toasts[len(m.toasts)-3:]
	}
	ttl := toastTTL
	if isErr {
		ttl = errorTTL
	}
	return tea.Tick(ttl, func(time.Time) tea.Msg { return toastExpiredMsg{id: id} })
}

func (m *Model) expireToast(id int) {
	for i, t := range m.toasts {
		if t.id == id {
			m.toasts = append(m.toasts[:i], m.toasts[i+1:]...)
			return
		}
	}
}

// toastView stacks the toasts, newest at the bottom.
func (m *Model) toastView() string {
	var boxes []string
	w := max(min(m.width/2, 70), 20)
	for _, t := range m.toasts {
		st := m.c.Styles.Toast
		if t.isErr {
			st = m.c.Styles.ToastError
		}
		boxes = append(boxes, st.Width(w).Render(strings.TrimSpace(t.text)))
	}
	return lipgloss.JoinVertical(lipgloss.Right, boxes...)
}
