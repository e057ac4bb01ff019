package containers

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

// keyMsg is commontest.Key.
var keyMsg = commontest.Key

// loaded returns a view over b that has received its first listing.
func loaded(t testing.TB, b *commontest.Backend) *Model {
	t.Helper()
	m := New(commontest.Common(context.Background(), b))
	m.SetSize(120, 26)
	cs, _ := b.Containers(context.Background(), runtime.ListOptions{All: true})
	m.Update(listMsg{containers: cs})
	return m
}

// names lists the visible rows' names in order.
func names(m *Model) []string {
	var out []string
	for _, i := range m.visible {
		out = append(out, m.rows[i].c.Name)
	}
	return out
}

// press sends keys one by one and runs the returned commands that finish
// at once (actions), feeding their messages back.
func press(t testing.TB, m *Model, keys ...string) []tea.Msg {
	t.Helper()
	var msgs []tea.Msg
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		msgs = append(msgs, run(m, cmd)...)
	}
	return msgs
}

// run executes cmd if it is an action (not a blocking stream read) and
// feeds its message back into m.
func run(m *Model, cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(50 * time.Millisecond):
		return nil // a timer (cursor blink) or a stream read
	}
	switch msg := msg.(type) {
	case actionDoneMsg:
		_, next := m.Update(msg)
		if next != nil {
			return []tea.Msg{msg, next()}
		}
		return []tea.Msg{msg}
	case tea.BatchMsg:
		return nil
	default:
		return []tea.Msg{msg}
	}
}

func TestSort(t *testing.T) {
	tests := []struct {
		keys []string
		want []string
	}{
		{nil, []string{"cache", "db", "web", "worker"}},
		{[]string{"N"}, []string{"worker", "web", "db", "cache"}},
		{[]string{"S"}, []string{"db", "web", "worker", "cache"}},
		{[]string{"S", "S"}, []string{"cache", "worker", "db", "web"}},
		{[]string{"I"}, []string{"web", "db", "cache", "worker"}},
		{[]string{"U"}, []string{"cache", "worker", "web", "db"}},
		{[]string{">", ">"}, []string{"web", "db", "cache", "worker"}},
		{[]string{"<"}, []string{"cache", "db", "web", "worker"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.keys, ""), func(t *testing.T) {
			m := loaded(t, commontest.New(commontest.Sample()...))
			press(t, m, tt.keys...)
			if got := names(m); !slices.Equal(got, tt.want) {
				t.Errorf("order after %q = %v, want %v", tt.keys, got, tt.want)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	tests := []struct {
		name    string
		typed   string
		want    []string
		wantErr bool
	}{
		{"fuzzy", "nginx", []string{"web"}, false},
		{"fuzzy loose", "wb", []string{"web", "worker"}, false},
		{"fuzzy image", "redis", []string{"cache"}, false},
		{"fuzzy state", "exited", []string{"cache"}, false},
		{"regex", "~^(db|cache) ", []string{"cache", "db"}, false},
		{"regex case-insensitive", "~WORK", []string{"worker"}, false},
		{"bad regex keeps rows", "~(", []string{"cache", "db", "web", "worker"}, true},
		{"nothing", "zzzz", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := loaded(t, commontest.New(commontest.Sample()...))
			press(t, m, "/")
			if !m.CapturingInput() {
				t.Fatal("/ did not open the filter")
			}
			for _, r := range tt.typed {
				press(t, m, string(r))
			}
			press(t, m, "enter")
			if got := names(m); !slices.Equal(got, tt.want) {
				t.Errorf("filter %q = %v, want %v", tt.typed, got, tt.want)
			}
			if (m.filterErr != "") != tt.wantErr {
				t.Errorf("filter error = %q, want error %v", m.filterErr, tt.wantErr)
			}
			press(t, m, "esc")
			if len(m.visible) != 4 {
				t.Errorf("esc left %d rows, want 4", len(m.visible))
			}
		})
	}
}

func TestBulkActionsConfirm(t *testing.T) {
	tests := []struct {
		name   string
		keys   []string // to the view; the last one asks
		dialog []string // to the root's dialog; nil: no dialog is expected
		calls  []string
	}{
		{"enter cancels by default", []string{"space", "space", "x"}, []string{"enter"}, nil},
		{"esc cancels", []string{"space", "x"}, []string{"esc"}, nil},
		{"confirmed stop of two", []string{"space", "space", "x"}, []string{"right", "enter"}, []string{"stop " + commontest.ID(3), "stop " + commontest.ID(2)}},
		{"remove confirms even one", []string{"ctrl+d"}, []string{"enter"}, nil},
		{"remove one", []string{"ctrl+d"}, []string{"right", "enter"}, []string{"remove " + commontest.ID(3)}},
		{"single start needs no confirm", []string{"u"}, nil, []string{"start " + commontest.ID(3)}},
		{"restart marked", []string{"down", "space", "ctrl+r"}, []string{"right", "enter"}, []string{"restart " + commontest.ID(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := commontest.New(commontest.Sample()...)
			m := loaded(t, b)
			press(t, m, tt.keys[:len(tt.keys)-1]...)
			_, cmd := m.Update(keyMsg(tt.keys[len(tt.keys)-1]))
			if tt.dialog != nil {
				_, cmd = commontest.Answer(t, cmd, tt.dialog...)
			}
			run(m, cmd)
			if got := b.CallLog(); !slices.Equal(got, tt.calls) {
				t.Errorf("calls = %q, want %q", got, tt.calls)
			}
		})
	}
}

// TestConfirmAsksAboutTheTargets: the root's dialog names the action and
// the containers it is about.
func TestConfirmAsksAboutTheTargets(t *testing.T) {
	m := loaded(t, commontest.New(commontest.Sample()...))
	press(t, m, "space", "space")
	_, cmd := m.Update(keyMsg("x"))
	ask, _ := commontest.Answer(t, cmd)
	if ask.Action != "Stop" || !strings.HasPrefix(ask.Question, "Stop 2 container(s)?") {
		t.Errorf("asked %q with button %q", ask.Question, ask.Action)
	}
}

func TestMarkAllAndClear(t *testing.T) {
	m := loaded(t, commontest.New(commontest.Sample()...))
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlA})
	if len(m.marked) != 4 {
		t.Fatalf("ctrl+a marked %d, want 4", len(m.marked))
	}
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlA})
	if len(m.marked) != 0 {
		t.Fatalf("second ctrl+a left %d marked", len(m.marked))
	}
	press(t, m, "space", "esc")
	if len(m.marked) != 0 {
		t.Errorf("esc left %d marked", len(m.marked))
	}
}

func TestEventsUpdateOneRow(t *testing.T) {
	b := commontest.New(commontest.Sample()...)
	m := loaded(t, b)
	press(t, m, "down") // db
	if _, err := b.Stop(context.Background(), commontest.ID(2), runtime.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	_, cmd := m.Update(eventMsg{ev: models.Event{Type: models.EventExit, ContainerID: commontest.ID(2)}})
	if cmd == nil {
		t.Fatal("an event returned no command")
	}
	m.Update(m.fetchCmd(commontest.ID(2))())
	if r, _ := m.selected(); r.State != models.StateExited || r.Name != "db" {
		t.Errorf("after exit event: selected %s in state %s, want db exited", r.Name, r.State)
	}
	m.Update(eventMsg{ev: models.Event{Type: models.EventRemove, ContainerID: commontest.ID(2)}})
	if got := names(m); slices.Contains(got, "db") {
		t.Errorf("remove event left db: %v", got)
	}
	m.Update(containerMsg{c: models.Container{ID: commontest.ID(7), Name: "new", State: models.StateRunning}})
	if got := names(m); !slices.Contains(got, "new") {
		t.Errorf("a new container was not added: %v", got)
	}
	if running, total := m.Counts(); running != 2 || total != 4 {
		t.Errorf("counts = %d/%d, want 2/4", running, total)
	}
}

func TestStatsOnlyWhileFocused(t *testing.T) {
	b := commontest.New(commontest.Sample()...)
	m := loaded(t, b)
	first := m.Focus()
	m.Update(first())
	_, tick := m.Update(m.statsCmd(m.statsGen)())
	if tick == nil {
		t.Fatal("a sample did not schedule the next one")
	}
	var web row
	for _, r := range m.rows {
		if r.c.Name == "web" {
			web = r
		}
	}
	if !web.hasStats || web.cpu < 9.9 || web.cpu > 10.1 || web.mem != 1<<20 {
		t.Errorf("web stats = %+v, want 10%% CPU and 1 MiB", web)
	}
	gen := m.statsGen
	m.Blur()
	if _, cmd := m.Update(statsTickMsg{gen: gen}); cmd != nil {
		t.Error("a tick after Blur still sampled")
	}
	if _, cmd := m.Update(statsMsg{gen: gen}); cmd != nil {
		t.Error("a stale sample scheduled another")
	}
}

func TestOpenKeys(t *testing.T) {
	tests := []struct {
		key  string
		want common.SwitchViewMsg
	}{
		{"enter", common.SwitchViewMsg{View: "details", ContainerID: commontest.ID(3)}},
		{"l", common.SwitchViewMsg{View: "logs", ContainerID: commontest.ID(3)}},
		{"n", common.SwitchViewMsg{View: "editor"}},
		{"e", common.SwitchViewMsg{View: "editor", ContainerID: commontest.ID(3), Path: "/srv/cache.bun"}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			m := loaded(t, commontest.New(commontest.Sample()...))
			msgs := press(t, m, tt.key)
			if len(msgs) != 1 || msgs[0] != tt.want {
				t.Errorf("%s sent %v, want %v", tt.key, msgs, tt.want)
			}
		})
	}
}

func TestShellNeedsRunning(t *testing.T) {
	m := loaded(t, commontest.New(commontest.Sample()...))
	msgs := press(t, m, "s") // cache, exited
	if len(msgs) != 1 {
		t.Fatalf("got %v", msgs)
	}
	if e, ok := msgs[0].(common.ErrorMsg); !ok || !strings.Contains(e.Err.Error(), "start it") {
		t.Errorf("shell in an exited container: %v", msgs[0])
	}
}

func TestCopyID(t *testing.T) {
	var copied string
	b := commontest.New(commontest.Sample()...)
	c := commontest.Common(context.Background(), b)
	c.Copy = func(s string) error { copied = s; return nil }
	m := New(c)
	m.SetSize(120, 26)
	cs, _ := b.Containers(context.Background(), runtime.ListOptions{All: true})
	m.Update(listMsg{containers: cs})
	press(t, m, "y")
	if copied != commontest.ID(3) {
		t.Errorf("copied %q, want the full ID of cache", copied)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{5 * time.Second: "5s", 3 * time.Minute: "3m", 5 * time.Hour: "5h", 72 * time.Hour: "3d"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestSelectWaitsForTheRow: after a bundle runs, nest asks for its new
// container before the event that brings its row; the cursor lands on it
// when the row arrives, and on an existing row at once.
func TestSelectWaitsForTheRow(t *testing.T) {
	b := commontest.New(commontest.Sample()...)
	m := loaded(t, b)
	fresh := models.Container{ID: commontest.ID(42), Name: "zz-new", State: models.StateRunning}
	m.Select(fresh.ID)
	if m.selectedID() == fresh.ID {
		t.Fatal("selected a row that does not exist yet")
	}
	m.Update(containerMsg{id: fresh.ID, c: fresh})
	if got := m.selectedID(); got != fresh.ID {
		t.Fatalf("cursor on %s after the row arrived, want the new container", got)
	}
	m.Select(commontest.ID(2))
	if got := m.selectedID(); got != commontest.ID(2) {
		t.Errorf("Select of an existing row: cursor on %s", got)
	}
}

// TestStatsOfTheRowsOnScreen: with 500 containers the sampler asks for the
// rows on screen only (every 2 s), keeps an off-screen row's figures, and
// asks for every container, every 10 s, when the order needs them all
// (sorted by CPU%).
func TestStatsOfTheRowsOnScreen(t *testing.T) {
	b := commontest.New(commontest.Many(500)...)
	m := loaded(t, b)
	m.Focus()
	m.Update(m.statsCmd(m.statsGen)())
	asked := b.StatsAsked()
	h := m.tableHeight()
	if len(asked) != 1 || len(asked[0]) == 0 || len(asked[0]) > h {
		t.Fatalf("sample asked for %d containers (table height %d), want the rows on screen", len(asked[len(asked)-1]), h)
	}
	for _, id := range asked[0] {
		if !slices.ContainsFunc(m.visible[m.offset:m.offset+h], func(i int) bool { return m.rows[i].c.ID == id }) {
			t.Errorf("sampled %s, which is not on screen", id)
		}
	}
	if d := m.statsEvery(); d != statsInterval {
		t.Errorf("interval %v while sampling the screen, want %v", d, statsInterval)
	}
	top := m.rows[m.visible[0]]
	if !top.hasStats {
		t.Fatal("the first row on screen has no figures after a sample")
	}
	for range 2 * h { // scroll the first row off screen
		m.Update(tea.KeyMsg{Type: tea.KeyDown})
	}
	m.Update(m.statsCmd(m.statsGen)())
	if last := b.StatsAsked()[1]; slices.Contains(last, top.c.ID) {
		t.Error("the row scrolled off screen was sampled again")
	}
	if r := m.rows[m.visible[0]]; !r.hasStats || r.mem != top.mem {
		t.Errorf("off-screen row lost its figures: %+v", r)
	}
	for columns[m.sortCol].Title != "CPU%" {
		m.sortCol = (m.sortCol + 1) % len(columns)
	}
	if ids := m.statsIDs(); ids != nil {
		t.Errorf("sorted by CPU%%: sampling %d containers, want every one", len(ids))
	}
	if d := m.statsEvery(); d != slowStatsInterval {
		t.Errorf("interval %v sampling every one of 500, want %v", d, slowStatsInterval)
	}
}

// TestFirstListingStartsAtTheTop: a row an event brought in before any
// listing (here "worker", re-read after a keeper event) does not carry the
// cursor with it; the first table starts on its top row, and from then on
// the cursor follows its container through listings in containerd's order
// (not sorted: the cursor once followed whatever row took its index, so
// nest opened worker's logs for a tape that had web under the cursor).
func TestFirstListingStartsAtTheTop(t *testing.T) {
	web := models.Container{ID: commontest.ID(1), Name: "web", State: models.StateRunning}
	worker := models.Container{ID: commontest.ID(2), Name: "worker", State: models.StateRunning}
	for _, first := range []tea.Msg{
		listMsg{containers: []models.Container{web, worker}},
		liveListMsg{containers: []models.Container{web, worker}},
	} {
		t.Run(fmt.Sprintf("%T", first), func(t *testing.T) {
			m := New(commontest.Common(context.Background(), commontest.New(web, worker)))
			m.SetSize(120, 26)
			m.Update(containerMsg{id: worker.ID, c: worker})
			m.Update(first)
			if got := names(m); !slices.Equal(got, []string{"web", "worker"}) {
				t.Fatalf("rows %v, want web, worker", got)
			}
			if c, _ := m.selected(); c.Name != "web" {
				t.Fatalf("cursor on %q after the first listing, want the top row (web)", c.Name)
			}
			m.Update(listMsg{containers: []models.Container{worker, web}})
			if c, _ := m.selected(); c.Name != "web" {
				t.Fatalf("cursor on %q after containerd's listing (worker first), want it to stay on web", c.Name)
			}
			press(t, m, "down")
			m.Update(listMsg{containers: []models.Container{worker, {ID: commontest.ID(3), Name: "api"}, web}})
			if c, _ := m.selected(); c.Name != "worker" {
				t.Errorf("cursor on %q after a later listing, want it to stay on worker", c.Name)
			}
		})
	}
}
