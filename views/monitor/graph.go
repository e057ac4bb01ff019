package monitor

import "strings"

// eighths are the block characters for 0/8 to 8/8 of a cell's height.
var eighths = []rune(" ▁▂▃▄▅▆▇█")

// bars draws vals as a bar chart width cells wide and height rows high, the
// newest value in the right-most column and older ones to its left; top is
// the value of a full column. Missing history on the left is blank.
func bars(vals []float64, width, height int, top float64) []string {
	if width <= 0 || height <= 0 {
		return nil
	}
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	if top <= 0 {
		top = 1
	}
	pad := width - len(vals)
	rows := make([]string, height)
	for r := range rows {
		var b strings.Builder
		b.WriteString(strings.Repeat(" ", pad))
		base := (height - 1 - r) * 8
		for _, v := range vals {
			level := int(v/top*float64(height*8) + 0.5)
			if v > 0 && level == 0 {
				level = 1 // show that something is there
			}
			b.WriteRune(eighths[min(max(level-base, 0), 8)])
		}
		rows[r] = b.String()
	}
	return rows
}

// sparkline draws vals as a one-row bar chart.
func sparkline(vals []float64, width int, top float64) string {
	if rows := bars(vals, width, 1, top); len(rows) == 1 {
		return rows[0]
	}
	return ""
}

// peak returns the largest of vals, or 0.
func peak(vals []float64) float64 {
	p := 0.0
	for _, v := range vals {
		p = max(p, v)
	}
	return p
}
