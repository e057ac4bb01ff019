package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// DefaultSyncPort is the replication port announced when none is configured.
const DefaultSyncPort = 18733

// Source is where a Service learns the node's containers: the runtime.
type Source interface {
	// List lists containers.
	List(ctx context.Context, opts runtime.ListOptions) ([]models.Container, error)
	// Status reads one container by full ID.
	Status(ctx context.Context, id string) (runtime.Status, error)
	// Events streams container events until ctx ends.
	Events(ctx context.Context) (<-chan models.Event, <-chan error)
}

// Options configure a Service.
type Options struct {
	// Source lists the node's containers and streams their events; required.
	Source Source
	// NodeID is the node's stable ID (see LoadNodeID); required.
	NodeID string
	// NodeName is the node's name; required.
	NodeName string
	// Interfaces names the interfaces to use; empty means every usable one.
	Interfaces []string
	// SyncPort is the node's replication port; zero means DefaultSyncPort.
	SyncPort int
	// Fingerprint is the node's identity (engine/identity's ID string),
	// announced so that a replicating peer can pin the certificate the sync
	// server must present; empty announces none.
	Fingerprint string
	// Interval is the browser's first query interval (see BrowserOptions);
	// Expiry is ignored, records live for their TTL.
	Interval, Expiry time.Duration
	// Log receives what the service does; nil means none.
	Log *slog.Logger
}

// Service is discovery inside the keeper: it announces the node and its
// running containers, following the runtime's events, and browses the LAN.
type Service struct {
	opts      Options
	epoch     string // this run's, announced in the node record
	browser   *Browser
	announcer *Announcer
}

// resync re-lists the node's containers even without events, to correct
// anything an event stream that broke may have missed (a reconnect
// re-lists at once). A listing asks every task's shim, so it is rare: on a
// node of 500 containers one costs a quarter second of CPU.
const resync = time.Minute

// New checks opts and resolves the interfaces; Run starts the service.
func New(opts Options) (*Service, error) {
	if opts.Source == nil || opts.NodeID == "" || opts.NodeName == "" {
		return nil, fmt.Errorf("discovery needs a source, a node ID and a node name: %w", errdefs.ErrInvalid)
	}
	if opts.SyncPort == 0 {
		opts.SyncPort = DefaultSyncPort
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ifaces, err := Interfaces(opts.Interfaces)
	if err != nil {
		return nil, err
	}
	return &Service{
		opts:      opts,
		epoch:     strconv.FormatUint(rand.Uint64(), 36),
		browser:   NewBrowser(BrowserOptions{Self: opts.NodeID, Interfaces: ifaces, Interval: opts.Interval, Log: opts.Log}),
		announcer: NewAnnouncer(AnnouncerOptions{Interfaces: ifaces, Port: opts.SyncPort, Log: opts.Log}),
	}, nil
}

// Run announces and browses until ctx ends; it then says goodbye for
// every announcement.
func (s *Service) Run(ctx context.Context) error {
	defer s.announcer.Close()
	names := make([]string, 0)
	for _, ifi := range s.browser.opts.Interfaces {
		names = append(names, ifi.Name)
	}
	s.opts.Log.Info("discovery running", "node_id", s.opts.NodeID, "interfaces", names, "sync_port", s.opts.SyncPort)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.browser.Run(ctx)
	}()
	s.follow(ctx)
	<-done
	return nil
}

// follow keeps the announcements in line with the runtime until ctx ends,
// reconnecting to its event stream when it breaks.
func (s *Service) follow(ctx context.Context) {
	f := &follower{s: s, anns: map[string]Announcement{}, gen: map[string]int{}, results: make(chan lookup, 256)}
	for ctx.Err() == nil {
		sctx, cancel := context.WithCancel(ctx)
		events, errc := s.opts.Source.Events(sctx)
		f.resync(sctx)
		err := f.run(sctx, events, errc)
		cancel()
		if ctx.Err() == nil {
			s.opts.Log.Warn("discovery: container events ended; reconnecting", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// follower applies container events to the announced set. A start looks
// its container up in its own goroutine (containerd answers slowly while
// many tasks start), so that one slow lookup delays no other container; a
// result is dropped when a later event for the same container came first.
type follower struct {
	s       *Service
	anns    map[string]Announcement // by container ID
	gen     map[string]int          // events seen per container ID
	results chan lookup
}

type lookup struct {
	id  string
	gen int
	c   models.Container
	err error
}

func (f *follower) run(ctx context.Context, events <-chan models.Event, errc <-chan error) error {
	tick := time.NewTicker(resync)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				select {
				case err := <-errc:
					return err
				default:
					return errors.New("event stream closed")
				}
			}
			f.event(ctx, ev)
		case r := <-f.results:
			f.apply(r)
		case <-tick.C:
			f.resync(ctx)
		case err := <-errc:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// event handles one container event.
func (f *follower) event(ctx context.Context, ev models.Event) {
	id := ev.ContainerID
	f.gen[id]++
	switch ev.Type {
	case models.EventExit, models.EventDelete, models.EventRemove:
		if ev.Type == models.EventRemove {
			delete(f.gen, id) // a pending lookup now finds 0 and is dropped
		}
		if _, ok := f.anns[id]; ok {
			delete(f.anns, id)
			f.publish()
		}
	case models.EventStart, models.EventPause, models.EventResume, models.EventUpdate:
		gen := f.gen[id]
		go func() {
			st, err := f.s.opts.Source.Status(ctx, id)
			select {
			case f.results <- lookup{id: id, gen: gen, c: st.Container, err: err}:
			case <-ctx.Done():
			}
		}()
	}
}

// apply announces (or withdraws) a looked-up container unless a later
// event overtook the lookup.
func (f *follower) apply(r lookup) {
	if f.gen[r.id] != r.gen {
		return
	}
	if r.err != nil {
		if _, ok := f.anns[r.id]; ok && errors.Is(r.err, errdefs.ErrNotFound) {
			delete(f.anns, r.id)
			f.publish()
		}
		return
	}
	f.put(r.c)
	f.publish()
}

// put records c's announcement, or removes it when c is not running.
func (f *follower) put(c models.Container) {
	if c.State != models.StateRunning && c.State != models.StatePaused {
		delete(f.anns, c.ID)
		return
	}
	a := f.s.nodeAnnouncement()
	a.Kind, a.ContainerID, a.ContainerName, a.Image, a.State, a.Ports, a.Epoch =
		KindContainer, c.ID, c.Name, c.Image, c.State, c.Ports, ""
	f.anns[c.ID] = a
}

// resync lists every container and announces exactly the running ones.
func (f *follower) resync(ctx context.Context) {
	cs, err := f.s.opts.Source.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		if ctx.Err() == nil {
			f.s.opts.Log.Warn("discovery: list containers", "err", err)
		}
		return
	}
	clear(f.anns)
	for _, c := range cs {
		f.gen[c.ID]++ // lookups started before the list are older than it
		f.put(c)
	}
	f.publish()
}

// publish hands the node's and the containers' announcements to the announcer.
func (f *follower) publish() {
	anns := make([]Announcement, 0, len(f.anns)+1)
	insts := make([]string, 0, len(f.anns))
	for _, a := range f.anns {
		anns = append(anns, a)
		insts = append(insts, a.Instance())
	}
	node := f.s.nodeAnnouncement()
	node.Digest = ContainerDigest(insts)
	anns = append(anns, node)
	if err := f.s.announcer.Set(anns); err != nil {
		f.s.opts.Log.Warn("discovery: announce", "err", err)
	}
}

func (s *Service) nodeAnnouncement() Announcement {
	return Announcement{Kind: KindNode, NodeID: s.opts.NodeID, NodeName: s.opts.NodeName, SyncPort: s.opts.SyncPort,
		Fingerprint: s.opts.Fingerprint, Epoch: s.epoch}
}

// NodeID returns this node's ID.
func (s *Service) NodeID() string { return s.opts.NodeID }

// Nodes returns the LAN as the browser sees it, this node first.
func (s *Service) Nodes() []models.PeerNode { return s.browser.Nodes() }

// Subscribe streams changes to the peer table (see Browser.Subscribe).
func (s *Service) Subscribe() (<-chan models.PeerEvent, func()) { return s.browser.Subscribe() }

// Interfaces returns the interfaces the service uses.
func (s *Service) Interfaces() []net.Interface { return s.browser.opts.Interfaces }

// Announced returns how many announcements (the node's own included) are live.
func (s *Service) Announced() int { return s.announcer.Len() }
