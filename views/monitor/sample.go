package monitor

import (
	"sort"

	"github.com/budgie-sh/budgie/models"
)

// historyLen is how many samples each container's history keeps (4 minutes
// at the 2 s interval).
const historyLen = 120

// row is one container's latest figures and its history.
type row struct {
	id, name string
	// prev and cur are the last two samples; prev is zero until the second.
	prev, cur models.Stats
	// cpu is the CPU % between prev and cur.
	cpu float64
	// rx, tx, read and write are byte rates per second between prev and cur.
	rx, tx, read, write float64
	// hostNet is set for a container whose spec joins the host's network
	// (models.HostNetwork): it has no counters of its own.
	hostNet bool
	// cpuHist and memHist are the last historyLen CPU % and memory figures.
	cpuHist, memHist []float64
}

// add folds a new sample into the row.
func (r *row) add(s models.Stats) {
	first := r.cur.Time.IsZero()
	r.prev, r.cur = r.cur, s
	r.memHist = push(r.memHist, float64(s.MemoryUsage))
	if first {
		return
	}
	dt := r.cur.Time.Sub(r.prev.Time).Seconds()
	r.cpu = models.CPUPercent(r.prev, r.cur)
	r.rx, r.tx = rate(r.prev.NetRx, s.NetRx, dt), rate(r.prev.NetTx, s.NetTx, dt)
	r.read, r.write = rate(r.prev.BlockRead, s.BlockRead, dt), rate(r.prev.BlockWrite, s.BlockWrite, dt)
	r.cpuHist = push(r.cpuHist, r.cpu)
}

// rated reports whether the row has two samples, so that rates mean something.
func (r *row) rated() bool { return !r.prev.Time.IsZero() }

// push appends v, keeping the last historyLen values.
func push(hist []float64, v float64) []float64 {
	hist = append(hist, v)
	if len(hist) > historyLen {
		hist = append(hist[:0], hist[len(hist)-historyLen:]...)
	}
	return hist
}

// rate is the per-second rate of a cumulative counter, 0 when it went back
// (a restarted container) or no time passed.
func rate(prev, cur uint64, seconds float64) float64 {
	if cur < prev || seconds <= 0 {
		return 0
	}
	return float64(cur-prev) / seconds
}

// totals are the node-wide sums of the rows. limit is 0 unless every
// container has a memory limit; hostOnly is set when there are rows and
// every one shares the host's network (rx and tx are then meaningless).
type totals struct {
	cpu, rx, tx, read, write float64
	mem, limit, pids         uint64
	hostOnly                 bool
}

// sum adds up the rows.
func sum(rows []*row) totals {
	t := totals{hostOnly: len(rows) > 0}
	for _, r := range rows {
		t.cpu += r.cpu
		t.rx, t.tx, t.read, t.write = t.rx+r.rx, t.tx+r.tx, t.read+r.read, t.write+r.write
		t.mem += r.cur.MemoryUsage
		if l := r.cur.MemoryLimit; l > 0 && l < unlimited && (t.limit > 0 || r == rows[0]) {
			t.limit += l
		} else {
			t.limit = 0 // one container without a limit: the node has none
		}
		t.pids += r.cur.Pids
		t.hostOnly = t.hostOnly && r.hostNet
	}
	return t
}

// applyStats folds one sample of every container into m.rows: rows for
// containers no longer sampled go, new ones come. It reports whether some
// container's name is unknown.
func (m *Model) applyStats(stats map[string]models.Stats) (unknown bool) {
	for id := range m.rows {
		if _, ok := stats[id]; !ok {
			delete(m.rows, id)
		}
	}
	for id, s := range stats {
		r, ok := m.rows[id]
		if !ok {
			r = &row{id: id}
			m.rows[id] = r
		}
		r.add(s)
		if name, ok := m.names[id]; ok {
			r.name, r.hostNet = name, m.hostNet[id]
		} else {
			unknown = true
		}
	}
	m.sortRows()
	return unknown
}

// sortRows orders the rows by name (then ID) and keeps the cursor on the
// container it was on.
func (m *Model) sortRows() {
	selected := m.selectedID()
	m.order = m.order[:0]
	for _, r := range m.rows {
		m.order = append(m.order, r)
	}
	sort.Slice(m.order, func(i, j int) bool {
		a, b := m.order[i], m.order[j]
		if a.label() != b.label() {
			return a.label() < b.label()
		}
		return a.id < b.id
	})
	m.cursor = 0
	for i, r := range m.order {
		if r.id == selected {
			m.cursor = i
		}
	}
}

// label is the row's name, or its short ID while the name is unknown.
func (r *row) label() string {
	if r.name != "" {
		return r.name
	}
	return models.ShortID(r.id)
}
