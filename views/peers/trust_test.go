package peers

import (
	"context"
	"reflect"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

// session plays nest's root for the view: a confirmation the view asks
// for opens a real common.Confirm, which gets the keys until it closes,
// and is drawn over the view as the root draws it.
type session struct {
	m   *Model
	box *common.Confirm
	ask common.ConfirmMsg
}

// press gives k to the dialog when one is up, else to the view; it
// returns the command that resulted (a dialog's answer, or the view's).
func (s *session) press(k string) tea.Cmd {
	if s.box != nil {
		s.box.Update(keyMsg(k))
		if !s.box.Done() {
			return nil
		}
		ok := s.box.OK()
		s.box = nil
		if ok {
			return s.ask.OnConfirm
		}
		return s.ask.OnCancel
	}
	_, cmd := s.m.Update(keyMsg(k))
	return s.open(cmd)
}

// open runs cmd when it asks for a confirmation and opens the dialog.
func (s *session) open(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	if ask, ok := cmd().(common.ConfirmMsg); ok {
		s.ask, s.box = ask, common.NewConfirm(s.m.c, ask.Question, ask.Action)
		return nil
	}
	return cmd
}

// view is the view with the dialog over it.
func (s *session) view() string {
	if s.box == nil {
		return s.m.View()
	}
	return common.Overlay(s.m.View(), s.box.View(), s.m.width, s.m.height)
}

// run presses keys and runs the last key's command, returning its message.
func run(m *Model, keys ...string) tea.Msg {
	s := &session{m: m}
	var cmd tea.Cmd
	for _, k := range keys {
		cmd = s.press(k)
	}
	if cmd == nil {
		return nil
	}
	return cmd()
}

func TestPendingTrustAcceptAndDeny(t *testing.T) {
	// loadedRepl has the cursor on attic's app; G selects the last item,
	// kitchen's request; up from it, cellar's.
	tests := []struct {
		name  string
		keys  []string
		calls []string
	}{
		{"accept the selected", []string{"G", "up", "a", "right", "enter"}, []string{"trust " + cellarID + " cellar"}},
		{"deny the selected", []string{"G", "x", "right", "enter"}, []string{"deny " + kitchenID}},
		{"a elsewhere only selects", []string{"a"}, nil},
		{"a elsewhere, then a, then OK", []string{"a", "a", "right", "enter"}, []string{"trust " + cellarID + " cellar"}},
		{"enter cancels", []string{"G", "a", "enter"}, nil},
		{"q cancels", []string{"G", "a", "q"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRepl()
			m := loadedRepl(t, f)
			run(m, tt.keys...)
			if !reflect.DeepEqual(f.log(), tt.calls) {
				t.Errorf("calls %v, want %v", f.log(), tt.calls)
			}
		})
	}
}

// Two requests: the second selected and accepted is the one trusted (the
// view once trusted the first by name whatever the cursor said).
func TestTrustsTheSelectedSecondRequest(t *testing.T) {
	f := newFakeRepl()
	m := loadedRepl(t, f)
	for range 20 {
		m.Update(keyMsg("down"))
	}
	if p, ok := m.selectedPending(); !ok || p.ID != kitchenID {
		t.Fatalf("down to the end selects %+v, want kitchen", p)
	}
	s := &session{m: m}
	s.press("a")
	v := s.view()
	for _, want := range []string{"Trust node kitchen?", kitchenID, "192.168.1.40:41000", "budgie id"} {
		if !strings.Contains(v, want) {
			t.Errorf("dialog lacks %q:\n%s", want, v)
		}
	}
	s.press("right")
	msg := s.press("enter")()
	if !reflect.DeepEqual(f.log(), []string{"trust " + kitchenID + " kitchen"}) {
		t.Fatalf("calls %v, want kitchen trusted", f.log())
	}
	if d, ok := msg.(trustDoneMsg); !ok || d.err != nil || d.text != "trusted kitchen (KQ7MZ2A)" {
		t.Errorf("result %#v", msg)
	}
}

func TestCursorFollowsItsRequestAcrossRefreshes(t *testing.T) {
	f := newFakeRepl()
	m := loadedRepl(t, f)
	m.Update(keyMsg("G")) // kitchen
	// cellar's request goes: kitchen moves up one place and keeps the cursor.
	l, _ := f.TrustList(m.ctx())
	l.Pending = l.Pending[1:]
	m.Update(extrasMsg{seq: m.applied, trust: l})
	if p, ok := m.selectedPending(); !ok || p.ID != kitchenID {
		t.Fatalf("after refresh the cursor is on %+v", p)
	}
	// A new peer table keeps it there too.
	m.Update(m.fetch()())
	if p, ok := m.selectedPending(); !ok || p.ID != kitchenID {
		t.Fatalf("after a table refresh the cursor is on %+v", p)
	}
}

func TestPendingDetails(t *testing.T) {
	f := newFakeRepl()
	m := loadedRepl(t, f)
	run(m, "G", "enter")
	v := m.View()
	for _, want := range []string{"Request", "kitchen", kitchenID, "192.168.1.40:41000", "1 time(s)"} {
		if !strings.Contains(v, want) {
			t.Errorf("details lack %q:\n%s", want, v)
		}
	}
}

func TestHostileNamesArePrintable(t *testing.T) {
	f := newFakeRepl()
	res, _ := f.Peers(context.Background(), engine.PeersOptions{})
	nodes := res.Nodes
	nodes[1].Name = "att\u009b2Jic"
	nodes[1].Containers[0].Image = "evil\x1b[2J\u202eimage"
	f.SetPeers(nodes, nil)
	f.refused = []string{"label \x1b]0;pwned\x07 (reserved or malformed)"}
	m := loadedRepl(t, f)
	m.trust.Pending[0].Name = "cel\x1b[31mlar"
	table := m.View()
	ses := planned(t, m)
	dialog := ses.view()
	ses.press("esc")
	for _, k := range []string{"G", "up", "a"} {
		ses.press(k)
	}
	trust := ses.view()
	for _, v := range []string{table, dialog, trust} {
		if strings.ContainsAny(v, "\x1b\u009b\u202e\x07") {
			t.Errorf("the view holds control runes:\n%q", v)
		}
	}
	for _, want := range []struct{ v, s string }{{table, `att\u009b2Jic`}, {table, `evil\x1b[2J\u202eimage`}, {table, `cel\x1b[31mla`},
		{dialog, `from att\u009b2Jic`}, {dialog, `label \x1b]0;pwned\a`}, {trust, `Trust node cel\x1b[31mlar?`}} {
		if !strings.Contains(want.v, want.s) {
			t.Errorf("view lacks %q:\n%s", want.s, want.v)
		}
	}
}

func TestTrustDialogGolden(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		w, h int
	}{
		{"trust the second request", []string{"G", "a"}, 120, 30},
		{"deny the first request", []string{"G", "up", "x"}, 120, 30},
		{"request selected", []string{"G", "up"}, 120, 30},
		{"trust the second request 80x24", []string{"G", "a"}, 80, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeRepl()
			s := &session{m: loadedRepl(t, f)}
			s.m.SetSize(tt.w, tt.h)
			for _, k := range tt.keys {
				s.press(k)
			}
			commontest.RequireFits(t, s.view(), tt.w, tt.h)
			teatest.RequireEqualOutput(t, []byte(s.view()))
		})
	}
}

// trustDone results are toasted, errors printable.
func TestTrustErrorIsPrintable(t *testing.T) {
	f := newFakeRepl()
	m := loadedRepl(t, f)
	_, cmd := m.Update(trustDoneMsg{err: models.PrintableError(errorString("node \x1b[2J"))})
	for _, c := range cmd().(tea.BatchMsg) {
		if e, ok := c().(common.ErrorMsg); ok && e.Err.Error() != `node \x1b[2J` {
			t.Errorf("error %q", e.Err)
		}
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
