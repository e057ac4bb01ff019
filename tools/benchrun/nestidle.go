package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// idleDraw is what nest did while idle: CPU percent of one core, bytes
// written to the terminal, and its frames: how many, how many left the
// screen as it was (wasted), and what the others changed.
type idleDraw struct {
	cpu     float64
	bytes   int64
	frames  int
	wasted  int
	changes []string // each changed cell, "old → new", in the order seen
}

// idle measures nest's CPU (percent of one core) and what it writes to
// its terminal over window, after settle, while nobody types. A frame is
// a 100 ms interval in which the output grew; after each, the pane is
// captured and compared with the capture before it, so a frame that
// redrew what was already there tells from one that showed a change (an
// uptime rolling over, a new CPU or memory figure).
func (p *nestPane) idle(work string, settle, window time.Duration) (idleDraw, error) {
	time.Sleep(settle)
	log := filepath.Join(work, p.session+".out")
	shown, err := p.capture()
	if err != nil {
		return idleDraw{}, err
	}
	if _, err := p.t.output("pipe-pane", "-O", "-t", p.session, "cat > "+log); err != nil {
		return idleDraw{}, err
	}
	before, err := cpuTicks(p.pid)
	if err != nil {
		return idleDraw{}, fmt.Errorf("read nest's CPU time: %w", err)
	}
	var d idleDraw
	var last int64
	for end := time.Now().Add(window); time.Now().Before(end); {
		time.Sleep(100 * time.Millisecond)
		st, err := os.Stat(log)
		if err != nil || st.Size() <= last {
			continue
		}
		last = st.Size()
		d.frames++
		now, err := p.capture()
		if err != nil {
			return idleDraw{}, err
		}
		if now == shown {
			d.wasted++
		}
		d.changes = append(d.changes, cellChanges(shown, now)...)
		shown = now
	}
	after, err := cpuTicks(p.pid)
	if err != nil {
		return idleDraw{}, fmt.Errorf("read nest's CPU time: %w", err)
	}
	if _, err := p.t.output("pipe-pane", "-t", p.session); err != nil {
		return idleDraw{}, err
	}
	time.Sleep(200 * time.Millisecond)
	out, err := os.ReadFile(log)
	if err != nil {
		return idleDraw{}, fmt.Errorf("pane output log: %w", err)
	}
	d.cpu = float64(after-before) / clockTicks / window.Seconds() * 100
	d.bytes = int64(len(out))
	return d, nil
}

// capture returns the pane's text as tmux shows it, normalized.
func (p *nestPane) capture() (string, error) {
	out, err := p.t.cmd("capture-pane", "-p", "-t", p.session).Output()
	if err != nil {
		return "", fmt.Errorf("tmux capture-pane: %w", err)
	}
	return normalizeScreen(string(out)), nil
}

// cellChanges compares two screens line by line and returns, for each
// line that differs, the words that changed ("3m → 4m"); a line whose
// words moved rather than changed reads as its whole text.
func cellChanges(before, after string) []string {
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	var out []string
	for i := range max(len(a), len(b)) {
		var was, is string
		if i < len(b) {
			was = b[i]
		}
		if i < len(a) {
			is = a[i]
		}
		if was == is {
			continue
		}
		wf, nf := strings.Fields(was), strings.Fields(is)
		if len(wf) != len(nf) {
			out = append(out, strings.TrimSpace(was)+" → "+strings.TrimSpace(is))
			continue
		}
		for j := range wf {
			if wf[j] != nf[j] {
				out = append(out, wf[j]+" → "+nf[j])
			}
		}
	}
	return out
}

// summary says what the idle frames drew: "3 frames (2743 B), none
// leaving the screen as it was; they changed 5 cells: 3m → 4m ×5".
func (d idleDraw) summary() string {
	s := fmt.Sprintf("%d B in %d frames, %d of them leaving the screen as it was", d.bytes, d.frames, d.wasted)
	if len(d.changes) == 0 {
		return s
	}
	count := map[string]int{}
	var order []string
	for _, c := range d.changes {
		if count[c] == 0 {
			order = append(order, c)
		}
		count[c]++
	}
	slices.SortStableFunc(order, func(x, y string) int { return count[y] - count[x] })
	var parts []string
	for i, c := range order {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("%d more", len(order)-4))
			break
		}
		if count[c] > 1 {
			c += fmt.Sprintf(" ×%d", count[c])
		}
		parts = append(parts, c)
	}
	return s + fmt.Sprintf("; the others changed %d cells (%s)", len(d.changes), strings.Join(parts, ", "))
}
