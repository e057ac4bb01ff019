package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// Kinds of event (EventMessage.Type).
const (
	// EventKindContainer is a change containerd reports: create, start,
	// exit, oom, delete (the task), update, pause, resume, remove.
	EventKindContainer = "container"
	// EventKindKeeper is what the node's keeper did or saw: restart-scheduled,
	// restarted, restart-cancelled, restart-failed, exited, health_status,
	// unhealthy-restart.
	EventKindKeeper = "keeper"
	// EventKindPeer is a change in the table of containers discovered on
	// the LAN: peer-appeared, peer-updated, peer-expired, node-appeared,
	// node-expired.
	EventKindPeer = "peer"
)

// EventMessage is one event as StreamEvents reports it, the same shape for
// containerd's events and the keeper's.
type EventMessage struct {
	// Time is when it happened (containerd's or the keeper's clock).
	Time time.Time `json:"time"`
	// Type is what the event is about: EventKindContainer, EventKindKeeper
	// or EventKindPeer.
	Type string `json:"type"`
	// Action is what happened ("start", "restarted", "peer-appeared").
	Action string `json:"action"`
	// ID is the container's full ID; empty for peer events.
	ID string `json:"id,omitempty"`
	// Name is the container's name (a peer's container, or the node for
	// node events); empty when the container was gone before its name
	// could be read.
	Name string `json:"name,omitempty"`
	// Attributes say more: image, exit_code, health, restart_count,
	// next_restart, message, node, address. Nil when there is nothing more.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// eventFilterKeys are the keys EventFilters accepts, and eventTypes the
// values of its type key.
var (
	eventFilterKeys = []string{"container", "event", "image", "type"}
	eventTypes      = []string{EventKindContainer, EventKindKeeper, EventKindPeer}
)

// EventFilters select events by key: a key given several values matches any
// of them, different keys must all match. Keys: type (container, keeper,
// peer), container (a name or an ID prefix), event (the action), image.
// Nil or empty matches every event.
type EventFilters map[string][]string

// ParseEventFilters reads docker-style KEY=VALUE filters; an unknown key or
// type is an errdefs.ErrInvalid error naming it and what is allowed.
func ParseEventFilters(args []string) (EventFilters, error) {
	f := EventFilters{}
	for _, arg := range args {
		key, value, ok := strings.Cut(arg, "=")
		key = strings.TrimSpace(key)
		switch {
		case !ok || value == "":
			return nil, fmt.Errorf("filter %q: want KEY=VALUE (keys: %s): %w", arg, strings.Join(eventFilterKeys, ", "), errdefs.ErrInvalid)
		case !contains(eventFilterKeys, key):
			return nil, fmt.Errorf("filter %q: unknown key %q (keys: %s): %w", arg, key, strings.Join(eventFilterKeys, ", "), errdefs.ErrInvalid)
		case key == "type" && !contains(eventTypes, value):
			return nil, fmt.Errorf("filter %q: unknown type %q (types: %s): %w", arg, value, strings.Join(eventTypes, ", "), errdefs.ErrInvalid)
		}
		f[key] = append(f[key], value)
	}
	return f, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Match reports whether m passes every filter.
func (f EventFilters) Match(m EventMessage) bool {
	for key, values := range f {
		ok := false
		for _, v := range values {
			ok = ok || f.matchOne(key, v, m)
		}
		if !ok {
			return false
		}
	}
	return true
}

func (EventFilters) matchOne(key, v string, m EventMessage) bool {
	switch key {
	case "type":
		return m.Type == v
	case "container":
		return m.Type != EventKindPeer && (m.Name == v || (m.ID != "" && strings.HasPrefix(m.ID, v)))
	case "event":
		return m.Action == v
	case "image":
		return m.Attributes["image"] == v
	}
	return false
}

// wants reports whether some event of kind can pass the type filter.
func (f EventFilters) wants(kind string) bool {
	return len(f["type"]) == 0 || contains(f["type"], kind)
}

// StreamEventsOptions tune StreamEvents.
type StreamEventsOptions struct {
	// Since drops events before it. Budgie keeps no event history, so it
	// may not lie in the past (more than a second ago); zero means now.
	Since time.Time
	// Until ends the stream at that time; zero means follow until ctx ends.
	Until time.Time
	// Filters select the events; nil means all.
	Filters EventFilters
	// Event receives each event, in order; an error it returns ends the
	// stream with that error. Required.
	Event func(EventMessage) error
}

// ErrNoEventHistory is wrapped (with errdefs.ErrInvalid) by StreamEvents
// when asked for events from the past.
var ErrNoEventHistory = errors.New("budgie keeps no event history: containerd and the keeper stream events live only")

// EventsSinceSlack is how far in the past StreamEventsOptions.Since may lie
// and still mean "now".
const EventsSinceSlack = time.Second

// StreamEvents reports the node's events live — containerd's container
// events and the keeper's notices (restarts, health, peers) — each with
// the container's name and image, until ctx ends or opts.Until passes
// (then it returns nil). It fails at once when containerd cannot be
// reached; the keeper's stream is dialled again every 2 s while none runs.
func (e *Engine) StreamEvents(ctx context.Context, opts StreamEventsOptions) error {
	now := time.Now()
	switch {
	case opts.Event == nil:
		return fmt.Errorf("stream events: no receiver given: %w", errdefs.ErrInvalid)
	case !opts.Since.IsZero() && opts.Since.Before(now.Add(-EventsSinceSlack)):
		return fmt.Errorf("events since %s: %w: %w", opts.Since.Format(time.RFC3339), ErrNoEventHistory, errdefs.ErrInvalid)
	case !opts.Until.IsZero() && !opts.Until.After(now):
		return fmt.Errorf("events until %s, which has passed: %w: %w", opts.Until.Format(time.RFC3339), ErrNoEventHistory, errdefs.ErrInvalid)
	case !opts.Since.IsZero() && !opts.Until.IsZero() && opts.Until.Before(opts.Since):
		return fmt.Errorf("events until %s come before since %s: %w", opts.Until.Format(time.RFC3339), opts.Since.Format(time.RFC3339), errdefs.ErrInvalid)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// --until is a timer, not a deadline on ctx: containerd's server would
	// end the subscription with an error of its own a moment before ctx
	// knows it has expired.
	var until <-chan time.Time
	if !opts.Until.IsZero() {
		timer := time.NewTimer(time.Until(opts.Until))
		defer timer.Stop()
		until = timer.C
	}
	names, err := e.newNameCache(ctx)
	if err != nil {
		return err
	}
	msgs := make(chan EventMessage, 256)
	errc := make(chan error, 1)
	go e.containerdMessages(ctx, names, opts.Filters, msgs, errc)
	if opts.Filters.wants(EventKindKeeper) || opts.Filters.wants(EventKindPeer) {
		go e.keeperMessages(ctx, names, msgs)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-until:
			return nil
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return err
		case m := <-msgs:
			if m.Time.Before(opts.Since) || (!opts.Until.IsZero() && m.Time.After(opts.Until)) || !opts.Filters.Match(m) {
				continue
			}
			if err := opts.Event(m); err != nil {
				return err
			}
		}
	}
}

// containerdMessages turns containerd's events into messages until its
// stream ends; a broken stream is sent on errc.
func (e *Engine) containerdMessages(ctx context.Context, names *nameCache, f EventFilters, out chan<- EventMessage, errc chan<- error) {
	events, evErr := e.Runtime.Events(ctx)
	for ev := range events {
		if !f.wants(EventKindContainer) {
			continue
		}
		m := EventMessage{Time: ev.Time, Type: EventKindContainer, Action: string(ev.Type), ID: ev.ContainerID}
		ref := names.lookup(ctx, ev.ContainerID, ev.Type == models.EventRemove)
		m.Name, m.Attributes = ref.name, attrs("image", ref.image)
		if ev.Type == models.EventExit {
			m.Attributes = attrs("image", ref.image, "exit_code", strconv.Itoa(ev.ExitCode))
		}
		select {
		case out <- m:
		case <-ctx.Done():
			return
		}
	}
	if ctx.Err() != nil {
		return
	}
	// The stream broke: its error was sent before the events closed (the
	// runtime's error channel is never closed).
	select {
	case err := <-evErr:
		errc <- err
	default:
		errc <- fmt.Errorf("containerd's event stream ended (is containerd still running?): %w", errdefs.ErrUnavailable)
	}
}

// keeperMessages turns the keeper's notices into messages until ctx ends,
// dialling the keeper again every 2 s while none answers.
func (e *Engine) keeperMessages(ctx context.Context, names *nameCache, out chan<- EventMessage) {
	for ctx.Err() == nil {
		notices, nerr := e.Keeper.Events(ctx)
		for n := range notices {
			select {
			case out <- noticeMessage(ctx, n, names):
			case <-ctx.Done():
				return
			}
		}
		<-nerr
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// noticeMessage is the message of one keeper notice.
func noticeMessage(ctx context.Context, n keeper.Notice, names *nameCache) EventMessage {
	if n.Type == keeper.NoticePeer && n.Peer != nil {
		p := n.Peer.Peer
		name := p.Name
		if name == "" {
			name = p.NodeName
		}
		return EventMessage{Time: n.Time, Type: EventKindPeer, Action: string(n.Peer.Type), Name: name,
			Attributes: attrs("node", p.NodeName, "image", p.Image, "address", p.Address)}
	}
	m := EventMessage{Time: n.Time, Type: EventKindKeeper, Action: string(n.Type), ID: n.ContainerID, Name: n.Name}
	ref := names.lookup(ctx, n.ContainerID, false)
	if m.Name == "" {
		m.Name = ref.name
	}
	kv := []string{"image", ref.image, "health", string(n.Health), "message", n.Message}
	switch n.Type {
	case keeper.NoticeExited, keeper.NoticeRestartScheduled:
		kv = append(kv, "exit_code", strconv.Itoa(n.ExitCode))
	}
	if n.RestartCount > 0 || n.Type == keeper.NoticeRestarted {
		kv = append(kv, "restart_count", strconv.Itoa(n.RestartCount))
	}
	if !n.NextRestart.IsZero() {
		kv = append(kv, "next_restart", n.NextRestart.UTC().Format(time.RFC3339Nano))
	}
	m.Attributes = attrs(kv...)
	return m
}

// attrs builds attributes from key, value pairs, leaving empty values out;
// nil when none is left.
func attrs(kv ...string) map[string]string {
	var m map[string]string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

// AttributeKeys returns m's attribute keys in sorted order.
func (m EventMessage) AttributeKeys() []string {
	keys := make([]string, 0, len(m.Attributes))
	for k := range m.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// containerRef is what events show of a container.
type containerRef struct{ name, image string }

// nameCache remembers the name and image of every container seen, so that
// the events of a container already removed still name it. It is safe for
// concurrent use (containerd's and the keeper's streams both read it).
type nameCache struct {
	rt  *runtime.Runtime
	mu  sync.Mutex
	ids map[string]containerRef
}

// newNameCache lists every container once (which also checks that
// containerd answers).
func (e *Engine) newNameCache(ctx context.Context) (*nameCache, error) {
	cs, err := e.Runtime.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		return nil, err
	}
	c := &nameCache{rt: e.Runtime, ids: map[string]containerRef{}}
	for _, ctr := range cs {
		c.ids[ctr.ID] = containerRef{name: ctr.Name, image: ctr.Image}
	}
	return c, nil
}

// lookup returns what is known of id, asking containerd on a miss (a
// container that is not Budgie's, or gone already, stays unnamed); forget
// drops it afterwards, as the container is gone.
func (c *nameCache) lookup(ctx context.Context, id string, forget bool) containerRef {
	if id == "" {
		return containerRef{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ref, ok := c.ids[id]
	if !ok && !forget {
		if ctr, err := c.rt.Get(ctx, id); err == nil && ctr.ID == id {
			ref = containerRef{name: ctr.Name, image: ctr.Image}
			c.ids[id] = ref
		}
	}
	if forget {
		delete(c.ids, id)
	}
	return ref
}
