package monitor

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/dustin/go-humanize"
)

// Column widths of the table; the CPU sparkline takes what is left.
const (
	nameW, cpuW, memW, memPctW, netW, blockW, pidsW = 16, 7, 21, 6, 19, 19, 5
	// fixedW is the fixed columns' width, a space after each.
	fixedW = nameW + cpuW + memW + memPctW + netW + blockW + pidsW + 7
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
	if t.netSeen {
		net = pair(bps(t.rx), bps(t.tx))
	}
	line := fmt.Sprintf("CPU %.1f%%   MEM %s   NET %s   BLOCK %s   PIDS %d",
		t.cpu, memory(t.mem, t.limit), net, pair(bps(t.read), bps(t.write)), t.pids)
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
	lines := []string{"", m.c.Styles.Header.Render(truncate(m.header(), m.width))}
	first := min(max(m.cursor-shown+1, 0), len(m.order)-shown)
	for i := first; i < first+shown && i < len(m.order); i++ {
		text := pad(m.rowText(m.order[i]), m.width)
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

func (m *Model) header() string {
	return fmt.Sprintf("%-*s %*s %-*s %*s %-*s %-*s %*s %s", nameW, "NAME", cpuW, "CPU %", memW, "MEM USAGE / LIMIT",
		memPctW, "MEM %", netW, "NET RX / TX", blockW, "BLOCK R / W", pidsW, "PIDS", "CPU HISTORY")
}

// rowText is one container's line of the table.
func (m *Model) rowText(r *row) string {
	cpu, net, block := "—", "—", "—"
	if r.rated() {
		cpu = fmt.Sprintf("%.1f%%", r.cpu)
		net = pair(bps(r.rx), bps(r.tx))
		block = pair(bps(r.read), bps(r.write))
	}
	if !r.netSeen {
		net = "host"
	}
	memPct := "—"
	if l := r.cur.MemoryLimit; l > 0 && l < unlimited {
		memPct = fmt.Sprintf("%.1f%%", float64(r.cur.MemoryUsage)/float64(l)*100)
	}
	spark := sparkline(r.cpuHist, m.width-fixedW, max(peak(r.cpuHist), 1))
	return fmt.Sprintf("%-*s %*s %-*s %*s %-*s %-*s %*d %s", nameW, cut(r.label(), nameW), cpuW, cpu,
		memW, memory(r.cur.MemoryUsage, r.cur.MemoryLimit), memPctW, memPct, netW, net, blockW, block,
		pidsW, r.cur.Pids, spark)
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

// truncate cuts a styled line to w cells.
func truncate(s string, w int) string {
	return lipgloss.NewStyle().MaxWidth(w).Render(s)
}

// pad fills s with spaces to w cells, or cuts it.
func pad(s string, w int) string {
	if n := lipgloss.Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return cut(s, w)
}
