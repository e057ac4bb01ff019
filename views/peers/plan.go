package peers

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/dustin/go-humanize"

	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// maxPlanVolumes is how many volumes the replicate dialog lists.
const maxPlanVolumes = 4

// planBody is the replicate dialog's text: what the dry run says will run
// here (the admitted spec, never the primary's raw plan) and every part of
// the plan left out. Each string in it comes from the primary and is
// Printable. When the refused lines do not fit the view, the last line
// says how many are left and where to read them all.
func (m *Model) planBody(rep replica.Result) string {
	name, node, _ := strings.Cut(m.target, "@")
	pr := models.Printable
	head := []string{fmt.Sprintf("Replicate %s from %s to this node as %s, kept in sync?", pr(name), pr(node), pr(rep.Admission.Spec.Name)), ""}
	head = append(head, m.specLines(rep)...)
	refused := []string{"", "left out of the primary's plan: nothing"}
	if len(rep.Admission.Refused) > 0 {
		refused = []string{"", fmt.Sprintf("left out of the primary's plan (%d):", len(rep.Admission.Refused))}
		for _, r := range rep.Admission.Refused {
			refused = append(refused, "  - "+pr(r))
		}
	}
	lines := m.wrapped(head)
	budget := m.bodyHeight() - len(lines)
	rest := m.wrapped(refused)
	if len(rest) > budget {
		shown, n := fitRefused(m, refused, budget-1)
		rest = append(m.wrapped(refused[:2+shown]), fmt.Sprintf("  … %d more: budgie chirp %s --dry-run lists them all", n, pr(m.target)))
	}
	return strings.Join(append(lines, rest...), "\n")
}

// fitRefused counts the refused lines (after the blank and the heading)
// whose wrapped text fits in budget lines, and those left out.
func fitRefused(m *Model, refused []string, budget int) (shown, left int) {
	used := len(m.wrapped(refused[:2]))
	for _, r := range refused[2:] {
		n := len(m.wrapped([]string{r}))
		if used+n > budget {
			break
		}
		used += n
		shown++
	}
	return shown, len(refused) - 2 - shown
}

// specLines describe the admitted spec: image, volumes with sizes, ports,
// networks and secrets.
func (m *Model) specLines(rep replica.Result) []string {
	pr, spec := models.Printable, rep.Admission.Spec
	img := "copied from the primary"
	if rep.HaveImage {
		img = "already here"
	}
	image := pr(spec.Image)
	if rep.Plan.ImageDigest != "" {
		image += "@" + pr(shortDigest(rep.Plan.ImageDigest))
	}
	out := []string{field("image", image+" ("+img+")")}
	for i, v := range rep.Admission.Volumes {
		if i == maxPlanVolumes {
			out = append(out, field("", fmt.Sprintf("+%d more volumes", len(rep.Admission.Volumes)-i)))
			break
		}
		label := ""
		if i == 0 {
			label = "volumes"
		}
		out = append(out, field(label, fmt.Sprintf("%s → %s: %d files, %s", pr(v.Name), pr(v.Target), v.Files, humanize.Bytes(uint64(v.Bytes)))))
	}
	if len(rep.Admission.Volumes) == 0 {
		out = append(out, field("volumes", "none"))
	}
	networks := "default"
	if len(spec.Networks) > 0 {
		networks = pr(strings.Join(spec.Networks, ", "))
	}
	return append(out, field("ports", orNone(pr(portList(spec.Ports, 0)))), field("networks", networks),
		field("secrets", orNone(pr(strings.Join(spec.Secrets, ", ")))))
}

// wrapped is lines wrapped to the dialog's width, one string per line.
func (m *Model) wrapped(lines []string) []string {
	var out []string
	for _, l := range lines {
		out = append(out, hang(l, m.dialogWidth())...)
	}
	return out
}

// hang wraps one dialog line at spaces, continuing under its text: under
// the value of a "label     value" field, the text of a "  - item", or
// the line's own indent.
func hang(line string, width int) []string {
	if ansi.StringWidth(line) <= width {
		return []string{line}
	}
	text := strings.TrimLeft(line, " ")
	prefix := line[:len(line)-len(text)]
	switch {
	case strings.HasPrefix(text, "- "):
		prefix += "- "
	case len(line) > 10 && strings.TrimSpace(line[:10]) != "" && !strings.Contains(strings.TrimSpace(line[:10]), " ") && line[9] == ' ':
		prefix = line[:10]
	}
	if ansi.StringWidth(prefix) > width/2 {
		prefix = ""
	}
	pad := strings.Repeat(" ", ansi.StringWidth(prefix))
	out := common.Wrap(line[len(prefix):], width-len(pad))
	for i := range out {
		if i == 0 {
			out[i] = prefix + out[i]
		} else {
			out[i] = pad + out[i]
		}
	}
	return out
}

// dialogWidth is the text width of a dialog: the view less the border,
// the padding and a margin.
func (m *Model) dialogWidth() int { return max(m.width-10, 20) }

// bodyHeight is the most lines a dialog's text may take: the view less
// the border, the padding, the buttons and the hint.
func (m *Model) bodyHeight() int { return max(m.height-8, 6) }

func field(label, value string) string { return fmt.Sprintf("%-9s %s", label, value) }

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// shortDigest keeps a digest's algorithm and first 12 hex digits.
func shortDigest(d string) string {
	if alg, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return alg + ":" + hex[:12]
	}
	return d
}
