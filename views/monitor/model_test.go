package monitor

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// run executes cmd and returns its message; it fails on a batch, which the
// tests below do not expect.
func run(t *testing.T, cmd tea.Cmd) tea.Msg {
	t.Helper()
	if cmd == nil {
		t.Fatal("want a command, got nil")
	}
	return cmd()
}

func TestCPUPercentFromTwoSamples(t *testing.T) {
	tests := []struct {
		name      string
		prev, cur uint64
		want      string
	}{
		{"half a cpu", 1e9, 2e9, "50.0%"},
		{"two cpus", 0, 4e9, "200.0%"},
		{"counter reset", 5e9, 1e9, "0.0%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestModel(t, &fakeBackend{})
			m.names[idWeb] = "web"
			m.applyStats(map[string]models.Stats{idWeb: {Time: t0, CPUNanos: tt.prev, BlockRead: 1000}})
			m.applyStats(map[string]models.Stats{idWeb: {Time: t0.Add(2 * time.Second), CPUNanos: tt.cur, BlockRead: 5000}})
			if got := m.rowText(m.rows[idWeb]); !strings.Contains(got, " "+tt.want+" ") {
				t.Errorf("row = %q, want CPU %s", got, tt.want)
			}
			if r := m.rows[idWeb]; r.read != 2000 {
				t.Errorf("block read rate = %v, want 2000 B/s", r.read)
			}
		})
	}
}

// TestNetworkRates drives the monitor through the backend: two samples of
// a container's own network counters show as a per-second rate; "host" is
// shown only for a container whose spec joins the host's network, even
// while a bridged container has not sent a byte.
func TestNetworkRates(t *testing.T) {
	hostSpec := models.ContainerSpec{Networks: []string{"budgie0", models.HostNetwork}}
	tests := []struct {
		name       string
		spec       models.ContainerSpec
		rx, tx     [2]uint64
		wantRow    string
		wantTotals string
	}{
		{"bridged with traffic", models.ContainerSpec{Networks: []string{"budgie0"}}, [2]uint64{1000, 9000}, [2]uint64{0, 3000}, "4.0 kB/s / 1.5 kB/s", "NET 4.0 kB/s / 1.5 kB/s"},
		{"default network, idle", models.ContainerSpec{}, [2]uint64{0, 0}, [2]uint64{0, 0}, "0 B/s / 0 B/s", "NET 0 B/s / 0 B/s"},
		{"counter reset", models.ContainerSpec{}, [2]uint64{9000, 1000}, [2]uint64{5000, 7000}, "0 B/s / 1.0 kB/s", "NET 0 B/s / 1.0 kB/s"},
		{"host network", hostSpec, [2]uint64{0, 0}, [2]uint64{0, 0}, "host", "NET host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeBackend{
				containers: []models.Container{{ID: idWeb, Name: "web", State: models.StateRunning, Spec: tt.spec}},
				samples: []map[string]models.Stats{
					{idWeb: {ContainerID: idWeb, Time: t0, NetRx: tt.rx[0], NetTx: tt.tx[0]}},
					{idWeb: {ContainerID: idWeb, Time: t0.Add(Interval), NetRx: tt.rx[1], NetTx: tt.tx[1]}},
				},
			}
			m := newTestModel(t, f)
			_, cmd := m.Update(run(t, m.SetActive(true)))
			batch, ok := cmd().(tea.BatchMsg) // the names lookup and the tick
			if !ok {
				t.Fatalf("want the names lookup with the first sample, got %T", cmd())
			}
			m.Update(batch[0]())
			m.Update(run(t, batch[1])) // the tick asks for the second sample
			m.Update(run(t, m.sample()))
			row := m.rowText(m.rows[idWeb])
			if got := netCell(m, row); got != tt.wantRow {
				t.Errorf("NET = %q, want %q (row %q)", got, tt.wantRow, row)
			}
			if got := m.View(); !strings.Contains(got, tt.wantTotals+"   ") {
				t.Errorf("totals do not show %q:\n%s", tt.wantTotals, got)
			}
		})
	}
}

// netCell is the NET RX / TX cell of a table row, found under its header.
func netCell(m *Model, row string) string {
	at := strings.Index(m.header(common.FitColumns(columns, nil, m.width, colHist)), "NET RX / TX")
	cells := []rune(row)
	return strings.TrimSpace(string(cells[at : at+columns[colNet].Max]))
}

func TestMonitorStopsTickingWhenInactive(t *testing.T) {
	f := &fakeBackend{containers: fixedContainers(), samples: fixedSamples(3)}
	m := newTestModel(t, f)
	if m.Init() != nil {
		t.Fatal("Init must not start sampling")
	}
	first := run(t, m.SetActive(true))
	if m.SetActive(true) != nil {
		t.Error("a second SetActive(true) must not start another sampler")
	}
	_, cmd := m.Update(first)
	if cmd == nil {
		t.Fatal("an active monitor must schedule its next sample")
	}
	m.Blur() // the root model hides the view
	// A tick and a sample of the earlier activation arrive late: both are dropped.
	if _, cmd := m.Update(tickMsg{gen: m.gen - 1}); cmd != nil {
		t.Error("a stale tick must not sample")
	}
	if _, cmd := m.Update(statsMsg{gen: m.gen - 1, stats: fixedSamples(3)[1]}); cmd != nil {
		t.Error("a stale sample must not schedule a tick")
	}
	if _, cmd := m.Update(tickMsg{gen: m.gen}); cmd != nil {
		t.Error("an inactive monitor must not sample")
	}
	if f.statsCalls != 1 {
		t.Errorf("Stats called %d times, want 1", f.statsCalls)
	}
	// Shown again: it samples at once.
	if _, ok := run(t, m.Focus()).(statsMsg); !ok {
		t.Error("reactivating must sample")
	}
}

func TestNamesFetchedOnlyForUnknownIDs(t *testing.T) {
	f := &fakeBackend{containers: fixedContainers(), samples: fixedSamples(3)}
	m := newTestModel(t, f)
	msg := run(t, m.SetActive(true))
	_, cmd := m.Update(msg)
	// A batch: the names lookup and the tick. Run the lookup only.
	batch, ok := cmd().(tea.BatchMsg)
	if !ok || len(batch) != 2 {
		t.Fatalf("want a batch of names and tick, got %T", cmd())
	}
	m.Update(batch[0]())
	if got := m.order[0].label(); got != "db" {
		t.Errorf("first row = %q, want db (sorted by name)", got)
	}
	_, cmd = m.Update(statsMsg{gen: m.gen, stats: fixedSamples(3)[1]})
	if _, isBatch := cmd().(tea.BatchMsg); isBatch || f.nameCalls != 1 {
		t.Errorf("known IDs must not list containers again (calls %d)", f.nameCalls)
	}
}

func TestMonitorKeys(t *testing.T) {
	m := newTestModel(t, &fakeBackend{})
	m.names = map[string]string{idWeb: "web", idDB: "db", idWorker: "worker"}
	m.applyStats(fixedSamples(1)[0])
	keys := []tea.KeyMsg{{Type: tea.KeyDown}, {Type: tea.KeyRunes, Runes: []rune("j")}, {Type: tea.KeyDown}, {Type: tea.KeyRunes, Runes: []rune("k")}}
	for _, k := range keys {
		m.Update(k)
	}
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	got, ok := run(t, cmd).(common.SwitchViewMsg)
	if !ok || got.View != "containers" || got.ContainerID != idWeb {
		t.Errorf("enter = %#v, want switch to web (second row)", got)
	}
}
