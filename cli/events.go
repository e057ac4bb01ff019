package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/models"
)

// EventsCmd prints the node's events live, as docker events does.
type EventsCmd struct {
	Since  string   `help:"Show events from this time on: a timestamp (2026-12-04T19:00:00Z) or Unix seconds, not in the past (budgie keeps no event history)." placeholder:"TIME"`
	Until  string   `help:"Stop at this time: a timestamp, Unix seconds, or a duration from now (30s)." placeholder:"TIME|DURATION"`
	Filter []string `short:"f" help:"Filter: type=container|keeper|peer, container=NAME|ID, event=ACTION, image=REF (repeatable; one key's values are alternatives)."`
	Format string   `help:"Output format: table (one line per event), json (one object per line), or a Go template such as '{{.Action}} {{.Name}}'." default:"table"`
}

// Help is the detail and example under the command's --help.
func (*EventsCmd) Help() string {
	return `Events are followed live from containerd (create, start, exit, oom, delete,
update, pause, resume, remove) and from the node's keeper (restarted,
restart-scheduled, health_status, … and peer changes on the LAN). Budgie keeps
no event history: --since can only start at now or later, and a past --until
is refused.

Example:
  budgie --headless events --filter container=web --filter type=container --until 1m
  2026-12-04T19:00:00.000000000Z container start web (image=docker.io/library/nginx:1)`
}

// Run streams the events until interrupted or --until.
func (c *EventsCmd) Run(g *Globals) error {
	now := time.Now()
	since, err := eventsTime("--since", c.Since, now, false)
	if err != nil {
		return err
	}
	until, err := eventsTime("--until", c.Until, now, true)
	if err != nil {
		return err
	}
	switch {
	case !since.IsZero() && since.Before(now.Add(-engine.EventsSinceSlack)):
		return fmt.Errorf("--since needs past events (%s), and %v; leave --since out to follow from now: %w", c.Since, engine.ErrNoEventHistory, errInvalid)
	case !until.IsZero() && !until.After(now):
		return fmt.Errorf("--until %s has passed, and %v; give a later time or a duration from now (30s): %w", c.Until, engine.ErrNoEventHistory, errInvalid)
	case !since.IsZero() && !until.IsZero() && until.Before(since):
		return fmt.Errorf("--until %s comes before --since %s: %w", c.Until, c.Since, errInvalid)
	}
	filters, err := engine.ParseEventFilters(c.Filter)
	if err != nil {
		return fmt.Errorf("--%w", err)
	}
	print, err := eventPrinter(os.Stdout, c.Format)
	if err != nil {
		return err
	}
	eng, err := g.Engine() // after the flags are known to be good
	if err != nil {
		return err
	}
	return eng.StreamEvents(g.ctx, engine.StreamEventsOptions{Since: since, Until: until, Filters: filters, Event: print})
}

// eventsTime reads --since or --until: RFC 3339 (with or without a zone),
// a date, Unix seconds, or — for --until only — a Go duration counting
// forward from now; empty means none.
func eventsTime(flag, s string, now time.Time, durations bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if !durations {
			return time.Time{}, fmt.Errorf("%s needs past events (%s ago), and %v; leave %s out to follow from now: %w", flag, s, engine.ErrNoEventHistory, flag, errInvalid)
		}
		return now.Add(d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if sec, frac, _ := strings.Cut(s, "."); sec != "" {
		if n, err := strconv.ParseInt(sec, 10, 64); err == nil {
			ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
			return time.Unix(n, ns), nil
		}
	}
	want := "a timestamp (2026-12-04T19:00:00Z), a date or Unix seconds"
	if durations {
		want += ", or a duration from now (30s)"
	}
	return time.Time{}, fmt.Errorf("%s %q: want %s: %w", flag, s, want, errInvalid)
}

// eventPrinter returns what prints one event in format: a docker events
// line, a JSON object per line, or a template per event.
func eventPrinter(out io.Writer, format string) (func(engine.EventMessage) error, error) {
	f, err := parseFormat(format)
	if err != nil {
		return nil, err
	}
	return func(m engine.EventMessage) error {
		return f.printLine(out, m, func(out io.Writer) error {
			_, err := fmt.Fprintln(out, eventLine(m))
			return err
		})
	}, nil
}

// eventLine is docker's events line: "TIME TYPE ACTION NAME (k=v, …)", the
// name (else the short ID) made printable.
func eventLine(m engine.EventMessage) string {
	var b strings.Builder
	b.WriteString(m.Time.UTC().Format("2006-01-02T15:04:05.000000000Z07:00"))
	b.WriteString(" " + m.Type + " " + m.Action)
	switch {
	case m.Name != "":
		b.WriteString(" " + models.Printable(m.Name))
	case m.ID != "":
		b.WriteString(" " + models.ShortID(m.ID))
	}
	if keys := m.AttributeKeys(); len(keys) > 0 {
		b.WriteString(" (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k + "=" + models.Printable(m.Attributes[k]))
		}
		b.WriteString(")")
	}
	return b.String()
}
