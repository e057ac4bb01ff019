package keeper

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/proxy"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// reserveGrace is how long ports published for a service that has no
// container yet stay bound: the run that asked for them is creating it.
const reserveGrace = 2 * time.Minute

// balancer keeps the proxy in line with the node's containers: every
// service (a bundle's container, or its replicas) with published ports has
// its host ports bound, and its running, not unhealthy replicas as backends.
type balancer struct {
	rt    *runtime.Runtime
	proxy *proxy.Proxy
	log   *slog.Logger
	kick  chan struct{}

	mu     sync.Mutex
	byName map[string]*service // by service name

	// portless names the containers the last reconcile listed with no
	// ports, published or asked for; only run's goroutine uses it.
	portless map[string]bool
}

// service is one published service's bindings.
type service struct {
	strategy string
	ports    map[portKey]proxy.Key // the bound key of each published port
	reserved time.Time             // when published with no container yet
}

// portKey identifies a port of a service as the bundle wrote it.
type portKey struct {
	containerPort uint16
	protocol      string
	hostIP        string
	hostPort      uint16 // 0 for a random one
}

func newBalancer(rt *runtime.Runtime, log *slog.Logger) *balancer {
	return &balancer{
		rt: rt, log: log, proxy: proxy.New(proxy.Options{Logger: log}),
		kick: make(chan struct{}, 1), byName: map[string]*service{},
	}
}

// trigger asks for a reconcile soon; triggers coalesce.
func (b *balancer) trigger() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Reconcile cadence without events: every balancerPoll while containerd's
// event stream is broken (and a reconnect is tried), every balancerSafety
// while it flows. A reconcile lists every container, which containerd 1.6
// answers by asking each task's shim: on a node of 500 containers a
// 3-second poll kept the keeper, containerd and the shims busy at rest.
const (
	balancerPoll   = 3 * time.Second
	balancerSafety = time.Minute
)

// run reconciles on every container event, health change and API call,
// and now and then as a safety net (see balancerSafety), until ctx ends.
func (b *balancer) run(ctx context.Context, health <-chan Notice) {
	defer b.proxy.Close()
	events, errc := b.rt.Events(ctx)
	tick := time.NewTicker(balancerPoll)
	defer tick.Stop()
	b.reconcile(ctx)
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				select {
				case err := <-errc:
					b.log.Warn("balancer: containerd events ended; polling", "err", err)
				default:
				}
			} else {
				burst, open := drainEvents(events, ev, b.portless)
				if burst.exited {
					// A task that died on its own leaves the others' hosts files.
					if err := b.rt.RefreshHosts(ctx); err != nil {
						b.log.Warn("refresh hosts files", "err", err)
					}
				}
				if !open {
					events = nil
				}
				if !burst.publishing {
					continue // a busy node's other containers cost no listing
				}
			}
		case ev := <-health:
			if ev.Type != NoticeHealth {
				continue // peers and restarts come as containerd events or do not matter here
			}
		case <-b.kick:
		case <-tick.C:
			if events == nil {
				events, errc = b.rt.Events(ctx)
			} else if time.Since(last) < balancerSafety {
				continue
			}
		}
		b.reconcile(ctx)
		last = time.Now()
	}
}

// eventBurst sums up the events drainEvents took.
type eventBurst struct {
	exited     bool // a task exited
	publishing bool // one may concern a container that publishes ports
}

// drainEvents takes the events already queued behind first, so that a
// burst (500 containers starting) costs one reconcile rather than one
// each, and reports whether the stream is still open. An event of a
// container portless names (one the last reconcile listed with no ports
// in its bundle, which a container's bundle never gains) cannot change a
// binding or a backend; any other can.
func drainEvents(events <-chan models.Event, first models.Event, portless map[string]bool) (eventBurst, bool) {
	var burst eventBurst
	add := func(ev models.Event) {
		burst.exited = burst.exited || ev.Type == models.EventExit
		burst.publishing = burst.publishing || !portless[ev.ContainerID]
	}
	add(first)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return burst, false
			}
			add(ev)
		default:
			return burst, true
		}
	}
}

// reconcile binds what the containers publish, sets each service's
// backends and releases services that no container has any more.
func (b *balancer) reconcile(ctx context.Context) {
	cs, err := b.rt.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		b.log.Warn("balancer: list containers", "err", err)
		return
	}
	byService := map[string][]models.Container{}
	portless := make(map[string]bool, len(cs))
	for _, c := range cs {
		if len(c.Ports) > 0 {
			byService[c.Service] = append(byService[c.Service], c)
		}
		portless[c.ID] = len(c.Ports) == 0 && len(c.Spec.Ports) == 0 && len(c.Damaged) == 0
	}
	b.portless = portless
	for _, members := range byService {
		sort.SliceStable(members, func(i, j int) bool { return members[i].Replica < members[j].Replica })
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, members := range byService {
		svc := b.byName[name]
		if svc == nil {
			svc = &service{ports: map[portKey]proxy.Key{}}
			if r := members[0].Spec.Replicas; r != nil {
				svc.strategy = r.Strategy
			}
			b.byName[name] = svc
		}
		svc.reserved = time.Time{}
		spec, recorded := members[0].Spec.Ports, members[0].Ports
		for i, pm := range recorded {
			want := pm
			if i < len(spec) {
				want = spec[i]
			}
			if _, err := b.bind(name, svc, want, pm); err != nil {
				b.log.Error("balancer: cannot publish port", "service", name, "port", pm.HostPort, "err", err)
			}
		}
		b.setBackends(name, svc, members)
	}
	for name, svc := range b.byName {
		if len(byService[name]) == 0 && (svc.reserved.IsZero() || time.Since(svc.reserved) > reserveGrace) {
			b.release(name, svc)
		}
	}
}

// bind publishes one port of a service unless it is bound already: want
// is the port as the bundle wrote it (host port 0 for a random one), pm
// the same port as recorded on a container (a random host port resolved,
// so that it stays the same across keeper restarts).
func (b *balancer) bind(name string, svc *service, want, pm models.PortMapping) (models.PortMapping, error) {
	if bound, ok := svc.ports[keyOf(want)]; ok {
		pm.HostPort = bound.HostPort
		return pm, nil
	}
	bound, err := b.proxy.Publish(context.Background(), proxy.ServiceConfig{
		Name: name, HostIP: pm.HostIP, HostPort: pm.HostPort, Protocol: protocolOf(pm), Strategy: svc.strategy,
	})
	if err != nil {
		return pm, err
	}
	pm.HostPort = bound.HostPort
	svc.ports[keyOf(want)] = bound
	return pm, nil
}

// setBackends gives each port of the service its running replicas.
func (b *balancer) setBackends(name string, svc *service, members []models.Container) {
	seen := map[proxy.Key]bool{}
	for k, key := range svc.ports {
		if seen[key] {
			continue
		}
		seen[key] = true
		var backends []proxy.Backend
		for _, c := range members {
			if c.State != models.StateRunning || len(c.Endpoints) == 0 {
				continue
			}
			backends = append(backends, proxy.Backend{
				ID: c.ID, Name: c.Name, Healthy: c.Health != models.HealthUnhealthy,
				Addr: net.JoinHostPort(c.Endpoints[0].IP, strconv.Itoa(int(k.containerPort))),
			})
		}
		if err := b.proxy.SetBackends(key, backends); err != nil {
			b.log.Warn("balancer: set backends", "service", name, "err", err)
		}
	}
}

// release unbinds every port of a service.
func (b *balancer) release(name string, svc *service) {
	seen := map[proxy.Key]bool{}
	for _, key := range svc.ports {
		if !seen[key] {
			seen[key] = true
			_ = b.proxy.Unpublish(key)
		}
	}
	delete(b.byName, name)
	b.log.Info("balancer: released service", "service", name)
}

func keyOf(pm models.PortMapping) portKey {
	return portKey{containerPort: pm.ContainerPort, protocol: protocolOf(pm), hostIP: pm.HostIP, hostPort: pm.HostPort}
}

func protocolOf(pm models.PortMapping) string {
	if pm.Protocol == "" {
		return "tcp"
	}
	return pm.Protocol
}

// publish serves POST /v1/publish: bind the service's ports now.
func (b *balancer) publish(w http.ResponseWriter, r *http.Request) {
	var req PublishRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Service == "" {
		writeError(w, fmt.Errorf("bad publish request: %w", errdefs.ErrInvalid))
		return
	}
	b.mu.Lock()
	svc := b.byName[req.Service]
	fresh := svc == nil
	if fresh {
		svc = &service{ports: map[portKey]proxy.Key{}, strategy: req.Strategy, reserved: time.Now()}
	}
	out := make([]models.PortMapping, 0, len(req.Ports))
	var err error
	for _, pm := range req.Ports {
		var got models.PortMapping
		if got, err = b.bind(req.Service, svc, pm, pm); err != nil {
			break
		}
		out = append(out, got)
	}
	if err != nil && fresh {
		b.release(req.Service, svc)
	} else if fresh {
		b.byName[req.Service] = svc
	}
	b.mu.Unlock()
	if err != nil {
		writeError(w, err)
		return
	}
	b.trigger()
	writeJSON(w, PublishResponse{Ports: out})
}

// unpublish serves DELETE /v1/publish?service=NAME: release the service's
// ports at once when it has no container (a failed run).
func (b *balancer) unpublish(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("service")
	b.mu.Lock()
	if svc := b.byName[name]; svc != nil {
		svc.reserved = time.Time{}
	}
	b.mu.Unlock()
	b.reconcile(r.Context())
	writeJSON(w, struct{}{})
}

// services serves GET /v1/services.
func (b *balancer) services(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, b.proxy.Services())
}
