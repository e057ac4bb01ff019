package runtime

import (
	"context"
	"fmt"
	"strings"
	"time"

	eventtypes "github.com/containerd/containerd/api/events"
	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	metricsv1 "github.com/containerd/containerd/metrics/types/v1"
	"github.com/containerd/typeurl/v2"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Events streams container events of Budgie's namespace from containerd
// until ctx ends. The event channel is buffered; the error channel carries
// at most one error, after which both are done.
func (r *Runtime) Events(ctx context.Context) (<-chan models.Event, <-chan error) {
	out := make(chan models.Event, 256)
	errc := make(chan error, 1)
	envelopes, errs := r.client.Subscribe(ctx, fmt.Sprintf("namespace==%s", r.opts.Namespace))
	go func() {
		defer close(out)
		for {
			select {
			case env := <-envelopes:
				ev, ok := decodeEvent(env.Event)
				if !ok {
					continue
				}
				ev.Time = env.Timestamp
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case err := <-errs:
				if err != nil && ctx.Err() == nil {
					errc <- fmt.Errorf("containerd events: %w", errdefs.FromContainerd(err))
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, errc
}

// decodeEvent turns a containerd envelope into a container event.
func decodeEvent(payload typeurl.Any) (models.Event, bool) {
	if payload == nil {
		return models.Event{}, false
	}
	v, err := typeurl.UnmarshalAny(payload)
	if err != nil {
		return models.Event{}, false
	}
	switch e := v.(type) {
	case *eventtypes.TaskStart:
		return models.Event{Type: models.EventStart, ContainerID: e.ContainerID}, true
	case *eventtypes.TaskExit:
		if e.ID != e.ContainerID { // an exec process, not the task
			return models.Event{}, false
		}
		return models.Event{Type: models.EventExit, ContainerID: e.ContainerID, ExitCode: int(e.ExitStatus)}, true
	case *eventtypes.TaskOOM:
		return models.Event{Type: models.EventOOM, ContainerID: e.ContainerID}, true
	case *eventtypes.TaskDelete:
		if e.ID != e.ContainerID {
			return models.Event{}, false
		}
		return models.Event{Type: models.EventDelete, ContainerID: e.ContainerID}, true
	case *eventtypes.TaskPaused:
		return models.Event{Type: models.EventPause, ContainerID: e.ContainerID}, true
	case *eventtypes.TaskResumed:
		return models.Event{Type: models.EventResume, ContainerID: e.ContainerID}, true
	case *eventtypes.ContainerCreate:
		return models.Event{Type: models.EventCreate, ContainerID: e.ID}, true
	case *eventtypes.ContainerUpdate:
		return models.Event{Type: models.EventUpdate, ContainerID: e.ID}, true
	case *eventtypes.ContainerDelete:
		return models.Event{Type: models.EventRemove, ContainerID: e.ID}, true
	}
	return models.Event{}, false
}

// Stats samples the resource use of every running task in one containerd
// call. Containers without a running task are absent from the result.
func (r *Runtime) Stats(ctx context.Context) (map[string]models.Stats, error) {
	resp, err := r.client.TaskService().Metrics(r.ns(ctx), &tasks.MetricsRequest{})
	if err != nil {
		return nil, fmt.Errorf("task metrics: %w", errdefs.FromContainerd(err))
	}
	out := make(map[string]models.Stats, len(resp.Metrics))
	for _, m := range resp.Metrics {
		v, err := typeurl.UnmarshalAny(m.Data)
		if err != nil {
			continue
		}
		cg, ok := v.(*metricsv1.Metrics)
		if !ok {
			continue
		}
		s := models.Stats{ContainerID: m.ID, Time: time.Now()}
		if m.Timestamp != nil {
			s.Time = m.Timestamp.AsTime()
		}
		if cg.CPU != nil && cg.CPU.Usage != nil {
			s.CPUNanos = cg.CPU.Usage.Total
		}
		if cg.Memory != nil && cg.Memory.Usage != nil {
			s.MemoryUsage = cg.Memory.Usage.Usage - min(cg.Memory.TotalInactiveFile, cg.Memory.Usage.Usage)
			if lim := cg.Memory.Usage.Limit; lim < 1<<62 {
				s.MemoryLimit = lim
			}
		}
		if cg.Pids != nil {
			s.Pids = cg.Pids.Current
		}
		if cg.Blkio != nil {
			for _, e := range cg.Blkio.IoServiceBytesRecursive {
				switch strings.ToLower(e.Op) {
				case "read":
					s.BlockRead += e.Value
				case "write":
					s.BlockWrite += e.Value
				}
			}
		}
		for _, n := range cg.Network {
			s.NetRx += n.RxBytes
			s.NetTx += n.TxBytes
		}
		out[m.ID] = s
	}
	return out, nil
}
