package monitor

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/dustin/go-humanize"

	"github.com/budgie-sh/budgie/views/common"
)

// Columns of the table, in display order (see common.FitColumns). On a
// narrow terminal they go in this order: CPU HISTORY, BLOCK, PIDS, MEM %,
// NET, MEM, CPU; NAME always stays. Every column but the CPU sparkline
// has a fixed width; the sparkline takes what is left.
const (
	colName = iota
	colCPU
	colMem
	colMemPct
	colNet
	colBlock
	colPids
	colHist
)

var columns = []common.Column{
	colName:   {Title: "NAME", Min: 16, Max: 16},
	colCPU:    {Title: "CPU %", Min: 7, Max: 7, Priority: 1, Right: true},
	colMem:    {Title: "MEM USAGE / LIMIT", Min: 21, Max: 21, Priority: 2},
	colMemPct: {Title: "MEM %", Min: 6, Max: 6, Priority: 4, Right: true},
	colNet:    {Title: "NET RX / TX", Min: 19, Max: 19, Priority: 3},
	colBlock:  {Title: "BLOCK R / W", Min: 19, Max: 19, Priority: 6},
	colPids:   {Title: "PIDS", Min: 5, Max: 5, Priority: 5, Right: true},
	colHist:   {Title: "CPU HISTORY", Min: 11, Priority: 7},
}

const (
	// maxGraphH is the tallest the selected container's graphs grow.
	maxGraphH = 8
	// gutterW is the width of the graphs' axis labels and bar.
	gutterW = 9
)

// unlimited is the memory limit above which cgroups mean "no limit".
const unlimited = uint64(1) << 60

// View draws the node totals, the table and the selected container's graphs.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := m.summary()
	switch {
	case !m.active && !m.sampled:
		lines = append(lines, "", m.c.Styles.Dim.Render("paused"))
	case m.err != nil && !m.sampled:
		lines = append(lines, "", m.c.Styles.ToastError.Render("cannot sample: "+m.err.Error()))
	case !m.sampled:
		lines = append(lines, "", m.c.Styles.Dim.Render("sampling…"))
	case len(m.order) == 0:
		lines = append(lines, "", m.c.Styles.Dim.Render("no running containers"))
	default:
		lines = append(lines, m.body(len(lines))...)
	}
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	return strings.Join(lines, "\n")
}

// summary is the title line and the node totals.
func (m *Model) summary() []string {
	s := m.c.Styles
	title := s.Title.Render("Monitor") + s.Dim.Render(fmt.Sprintf("  node %s · %d running", m.c.Node, len(m.order)))
	if m.err != nil && m.sampled {
		title += "  " + s.ToastError.UnsetBorderStyle().UnsetPadding().Render("sample failed: "+m.err.Error())
	}
	t := sum(m.order)
	net := "host"
	if !t.hostOnly {
		net = pair(bps(t.rx), bps(t.tx))
	}
	// The figures that do not fit are left out, not cut.
	var line string
	for _, part := range []string{
		fmt.Sprintf("CPU %.1f%%", t.cpu), "MEM " + memory(t.mem, t.limit), "NET " + net,
		"BLOCK " + pair(bps(t.read), bps(t.write)), fmt.Sprintf("PIDS %d", t.pids),
	} {
		switch {
		case line == "":
			line = part
		case lipgloss.Width(line)+3+lipgloss.Width(part) <= m.width:
			line += "   " + part
		}
	}
	return []string{truncate(title, m.width), truncate(line, m.width)}
}

// body is the table and, when there is room, the selected container's graphs.
func (m *Model) body(used int) []string {
	free := m.height - used - 2 // a blank line, the header
	graphH := min((free-len(m.order)-3)/2, maxGraphH)
	shown := len(m.order)
	if graphH < 2 {
		graphH = 0
	} else {
		shown = min(shown, free-3-2*graphH)
	}
	ws := common.FitColumns(columns, nil, m.width, colHist)
	lines := []string{"", m.c.Styles.Header.Render(strings.TrimRight(m.header(ws), " "))}
	first := min(max(m.cursor-shown+1, 0), len(m.order)-shown)
	for i := first; i < first+shown && i < len(m.order); i++ {
		text := m.rowLine(m.order[i], ws)
		if i == m.cursor {
			lines = append(lines, m.c.Styles.Selected.Render(text))
		} else {
			lines = append(lines, m.c.Styles.Row.Render(text))
		}
	}
	if graphH > 0 && m.cursor < len(m.order) {
		lines = append(lines, "")
		lines = append(lines, m.graphs(m.order[m.cursor], graphH)...)
	}
	return lines
}

func (m *Model) header(ws []int) string {
	titles := make([]string, len(columns))
	for i, c := range columns {
		titles[i] = c.Title
	}
	return common.Row(columns, titles, ws)
}

// rowText is one container's line of the table at the view's width.
func (m *Model) rowText(r *row) string {
	return m.rowLine(r, common.FitColumns(columns, nil, m.width, colHist))
}

// rowLine is one container's line of the table in column widths ws.
func (m *Model) rowLine(r *row, ws []int) string {
	cpu, net, block := "—", "—", "—"
	if r.rated() {
		cpu = fmt.Sprintf("%.1f%%", r.cpu)
		net = pair(bps(r.rx), bps(r.tx))
		block = pair(bps(r.read), bps(r.write))
	}
	if r.hostNet {
		net = "host"
	}
	memPct := "—"
	if l := r.cur.MemoryLimit; l > 0 && l < unlimited {
		memPct = fmt.Sprintf("%.1f%%", float64(r.cur.MemoryUsage)/float64(l)*100)
	}
	spark := sparkline(r.cpuHist, ws[colHist], max(peak(r.cpuHist), 1))
	cells := []string{
		colName: r.label(), colCPU: cpu, colMem: memory(r.cur.MemoryUsage, r.cur.MemoryLimit), colMemPct: memPct,
		colNet: net, colBlock: block, colPids: fmt.Sprint(r.cur.Pids), colHist: spark,
	}
	return common.Row(columns, cells, ws)
}

// graphs draws the CPU and memory history of r, each height rows high.
func (m *Model) graphs(r *row, height int) []string {
	s := m.c.Styles
	width := m.width - gutterW
	cpuTop := max(peak(r.cpuHist), 1)
	out := []string{s.Title.Render(r.label()) + s.Dim.Render(fmt.Sprintf(" · CPU %% (peak %.1f%%)", peak(r.cpuHist)))}
	out = append(out, axis(bars(r.cpuHist, width, height, cpuTop), fmt.Sprintf("%.1f%%", cpuTop))...)
	memTop, limit := peak(r.memHist), "no limit"
	if l := r.cur.MemoryLimit; l > 0 && l < unlimited {
		memTop, limit = float64(l), "limit "+humanize.IBytes(l)
	}
	out = append(out, s.Title.Render(r.label())+s.Dim.Render(fmt.Sprintf(" · memory %s (%s)", humanize.IBytes(r.cur.MemoryUsage), limit)))
	return append(out, axis(bars(r.memHist, width, height, memTop), humanize.IBytes(uint64(memTop)))...)
}

// axis puts a left gutter with the top value and 0 before graph rows.
func axis(rows []string, top string) []string {
	for i, r := range rows {
		label := ""
		switch i {
		case 0:
			label = top
		case len(rows) - 1:
			label = "0"
		}
		rows[i] = fmt.Sprintf("%*s │", gutterW-2, label) + r
	}
	return rows
}

// memory formats usage and limit as "50 MiB / 256 MiB".
func memory(usage, limit uint64) string {
	l := "no limit"
	if limit > 0 && limit < unlimited {
		l = humanize.IBytes(limit)
	}
	return humanize.IBytes(usage) + " / " + l
}

// bps formats a byte rate.
func bps(v float64) string { return humanize.Bytes(uint64(v)) + "/s" }

func pair(a, b string) string { return a + " / " + b }

// truncate cuts a styled line to w cells, marking the cut with "…".
func truncate(s string, w int) string { return common.Clip(s, w, 1) }
