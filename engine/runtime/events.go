package runtime

import (
	"context"
	"fmt"

	eventtypes "github.com/containerd/containerd/api/events"
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
