package containers

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/timing"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// How often the sampler asks for stats while the view is visible: every
// statsInterval, or every slowStatsInterval when it must sample every
// container (sorted by CPU% or MEM) and the node holds more than
// manyContainers. A sample asks each container's shim on containerd 1.6
// (and reads its network counters): 500 every 2 s would cost nest several
// percent of a core at rest, the 40 rows on screen do not.
const (
	statsInterval     = 2 * time.Second
	slowStatsInterval = 10 * time.Second
	manyContainers    = 100
)

// statsEvery is the sampler's interval for the current table.
func (m *Model) statsEvery() time.Duration {
	if len(m.rows) > manyContainers && m.statsIDs() == nil {
		return slowStatsInterval
	}
	return statsInterval
}

// listMsg carries the first full listing.
type listMsg struct{ containers []models.Container }

// liveListMsg carries the keeper's live list: the first table, drawn only
// while containerd's own listing (listMsg) has not landed. err is set when
// no keeper answered in time; either way containerd's listing follows.
type liveListMsg struct {
	containers []models.Container
	err        error
}

// liveListWait bounds the wait for the keeper's live list before
// containerd's listing starts anyway: a keeper whose list is not following
// yet answers only after a full listing of its own.
const liveListWait = 250 * time.Millisecond

// subscribedMsg carries the engine's event stream once subscribed.
type subscribedMsg struct {
	events <-chan models.Event
	errs   <-chan error
}

// eventMsg is one engine event; closed is set when the stream ended.
type eventMsg struct {
	ev     models.Event
	closed bool
}

// containerMsg is one container re-read after an event; gone is set when
// it no longer exists.
type containerMsg struct {
	id   string
	c    models.Container
	gone bool
}

// statsTickMsg asks for a sample; gen drops ticks of an earlier focus.
type statsTickMsg struct{ gen int }

// statsMsg is one sample of every running container.
type statsMsg struct {
	gen   int
	stats map[string]models.Stats
	ids   []string // the containers sampled; nil: every one
}

// actionDoneMsg reports a bulk action's result.
type actionDoneMsg struct {
	verb string
	n    int
	errs []error
}

func (m *Model) listCmd() tea.Cmd {
	b, ctx := m.c.Backend, m.c.Ctx
	return func() tea.Msg {
		cs, err := b.Containers(ctx, runtime.ListOptions{All: true})
		if err != nil {
			return common.ErrorMsg{Err: fmt.Errorf("list containers: %w", err)}
		}
		return listMsg{containers: cs}
	}
}

// liveListCmd asks the keeper for its live list: one round trip on its
// socket instead of containerd asking every shim. No keeper (or an older
// one, or a slow one) is no error to show: containerd's listing, which
// starts when this answers, draws the table as before. Asking containerd
// only then keeps its 500 shim calls from slowing the keeper's answer.
func (m *Model) liveListCmd() tea.Cmd {
	b, ctx := m.c.Backend, m.c.Ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, liveListWait)
		defer cancel()
		end := timing.Start(ctx, "nest/live-list")
		cs, err := b.LiveContainers(ctx, engine.LiveContainersOptions{})
		end()
		return liveListMsg{containers: cs, err: err}
	}
}

func (m *Model) subscribeCmd() tea.Cmd {
	b, ctx := m.c.Backend, m.c.Ctx
	return func() tea.Msg {
		events, errs := b.Events(ctx)
		return subscribedMsg{events: events, errs: errs}
	}
}

// nextEvent waits for one event; it is issued again after each one (STYLE 9).
func nextEvent(events <-chan models.Event, errs <-chan error) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-events
		if !ok {
			select {
			case err := <-errs:
				if err != nil {
					return common.ErrorMsg{Err: err}
				}
			default:
			}
			return eventMsg{closed: true}
		}
		return eventMsg{ev: ev}
	}
}

// fetchCmd re-reads one container after an event.
func (m *Model) fetchCmd(id string) tea.Cmd {
	b, ctx := m.c.Backend, m.c.Ctx
	return func() tea.Msg {
		c, err := b.Container(ctx, id)
		if errors.Is(err, errdefs.ErrNotFound) {
			return containerMsg{id: id, gone: true}
		}
		if err != nil {
			return common.ErrorMsg{Err: fmt.Errorf("read container %s: %w", models.ShortID(id), err)}
		}
		return containerMsg{id: id, c: c}
	}
}

func statsTick(gen int, after time.Duration) tea.Cmd {
	return tea.Tick(after, func(time.Time) tea.Msg { return statsTickMsg{gen: gen} })
}

func (m *Model) statsCmd(gen int) tea.Cmd {
	b, ctx := m.c.Backend, m.c.Ctx
	opts := runtime.StatsOptions{IDs: m.statsIDs(), NoNetwork: true} // the table shows no network column
	if opts.IDs != nil && len(opts.IDs) == 0 {                       // nothing running on screen
		return func() tea.Msg { return statsMsg{gen: gen, stats: map[string]models.Stats{}, ids: opts.IDs} }
	}
	return func() tea.Msg {
		s, err := b.Stats(ctx, opts)
		if err != nil {
			return common.ErrorMsg{Err: fmt.Errorf("container stats: %w", err)}
		}
		return statsMsg{gen: gen, stats: s, ids: opts.IDs}
	}
}

// statsIDs are the containers a sample needs: the running ones on screen,
// or nil (every one) when the table is sorted by CPU% or MEM, whose order
// needs them all. On containerd 1.6 each container sampled is a call to
// its shim: a screen of 40 rows should not pay for 500 containers.
func (m *Model) statsIDs() []string {
	if title := columns[m.sortCol].Title; title == "CPU%" || title == "MEM" {
		return nil
	}
	h := m.tableHeight()
	end := min(m.offset+h, len(m.visible))
	ids := []string{}
	for _, idx := range m.visible[min(m.offset, end):end] {
		if c := m.rows[idx].c; c.State == models.StateRunning || c.State == models.StatePaused {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// actionCmd runs verb on every ID, collecting failures.
func (m *Model) actionCmd(verb string, ids []string) tea.Cmd {
	b, ctx := m.c.Backend, m.c.Ctx
	return func() tea.Msg {
		var errs []error
		for _, id := range ids {
			var err error
			switch verb {
			case "start":
				_, err = b.Start(ctx, id)
			case "stop":
				_, err = b.Stop(ctx, id, runtime.StopOptions{})
			case "restart":
				_, err = b.Restart(ctx, id, runtime.StopOptions{})
			case "remove":
				_, err = b.Remove(ctx, id, runtime.RemoveOptions{Force: true})
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", verb, models.ShortID(id), err))
			}
		}
		return actionDoneMsg{verb: verb, n: len(ids), errs: errs}
	}
}
