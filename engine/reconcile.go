package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/stack"
	"github.com/budgie-sh/budgie/models"
)

// ReconcileAction is what a run of bundles whose containers already exist
// did to one of them (docker compose up's "Running", "Recreated", …).
type ReconcileAction string

// The reconcile actions.
const (
	// ReconcileUnchanged: the spec stored on the container matches the
	// bundle's and it runs; it was left alone (same ID).
	ReconcileUnchanged ReconcileAction = "unchanged"
	// ReconcileStarted: the spec matches but the container was stopped;
	// it was started (same ID).
	ReconcileStarted ReconcileAction = "started"
	// ReconcileRecreated: the spec differs (or the container's spec labels
	// are damaged); the old container was removed, its named volumes
	// kept, and a new one created (new ID).
	ReconcileRecreated ReconcileAction = "recreated"
	// ReconcileCreated: no container had the name; one was created.
	ReconcileCreated ReconcileAction = "created"
)

// ReconcileResult is what a reconciling run did to one container of the
// bundles.
type ReconcileResult struct {
	// Name is the bundle's container name (a replicated container's
	// service name).
	Name string
	// Action is what was done.
	Action ReconcileAction
	// Containers are the containers that now stand for it: one, or the
	// replicas of a replicated container.
	Containers []models.Container
}

// reconcilePlan is what a reconciling run will do, per container name.
type reconcilePlan struct {
	specs []models.ContainerSpec // in bundle order
	steps map[string]*reconcileStep
}

// reconcileStep is the plan for one spec.
type reconcileStep struct {
	action ReconcileAction
	// old are the spec's existing containers: the one of its name, or
	// its replicas.
	old []models.Container
}

// anyExists reports whether some container of the plan exists already;
// when none does, the run is a plain one.
func (p reconcilePlan) anyExists() bool {
	for _, st := range p.steps {
		if len(st.old) > 0 {
			return true
		}
	}
	return false
}

// planReconcile compares each spec with the containers that exist: the
// spec each was created from is read back from its labels (containerd
// holds the only copy), never kept elsewhere. A stopped container that is
// unchanged but depends on one being (re)created is recreated too, so that
// its start waits for that dependency's condition as a new container's
// does.
func planReconcile(specs []models.ContainerSpec, existing []models.Container) reconcilePlan {
	p := reconcilePlan{specs: specs, steps: map[string]*reconcileStep{}}
	for _, s := range specs {
		st := &reconcileStep{old: ownedBy(s, existing)}
		switch {
		case len(st.old) == 0:
			st.action = ReconcileCreated
		case !unchanged(s, st.old):
			st.action = ReconcileRecreated
		case allUp(st.old):
			st.action = ReconcileUnchanged
		default:
			st.action = ReconcileStarted
		}
		p.steps[s.Name] = st
	}
	for changed := true; changed; {
		changed = false
		for _, s := range specs {
			if st := p.steps[s.Name]; st.action == ReconcileStarted && p.dependsOnNew(s) {
				st.action, changed = ReconcileRecreated, true
			}
		}
	}
	return p
}

// dependsOnNew reports whether s depends on a container of the plan that
// is created or recreated.
func (p reconcilePlan) dependsOnNew(s models.ContainerSpec) bool {
	for _, d := range s.DependsOn {
		if st, in := p.steps[d.Name]; in && (st.action == ReconcileCreated || st.action == ReconcileRecreated) {
			return true
		}
	}
	return false
}

// ownedBy returns the containers that stand for s: the one named s.Name,
// and any replicas of a service named s.Name (a container that was
// replicated before, or is now).
func ownedBy(s models.ContainerSpec, existing []models.Container) []models.Container {
	var out []models.Container
	for _, c := range existing {
		if c.Name == s.Name || (c.Replica > 0 && c.Service == s.Name) {
			out = append(out, c)
		}
	}
	return out
}

// unchanged reports whether old is exactly what s makes: its one
// container, or replicas 1…N, each created from the same spec.
func unchanged(s models.ContainerSpec, old []models.Container) bool {
	if s.Replicas == nil {
		return len(old) == 1 && old[0].Name == s.Name && old[0].Replica == 0 && sameSpec(old[0], s)
	}
	n := runtime.ReplicaCount(s)
	if len(old) != n {
		return false
	}
	for _, c := range old {
		if c.Replica < 1 || c.Replica > n || c.Name != runtime.ReplicaName(s.Name, c.Replica) || !sameSpec(c, runtime.ReplicaSpec(s, c.Replica)) {
			return false
		}
	}
	return true
}

// sameSpec reports whether c was created from spec s. Both are compared
// in their label encoding (JSON), so that nil and empty lists, or a
// duration's form, cannot make equal specs differ. A container whose
// spec labels are damaged is never the same.
func sameSpec(c models.Container, s models.ContainerSpec) bool {
	if len(c.Damaged) > 0 {
		return false
	}
	a, errA := json.Marshal(c.Spec)
	b, errB := json.Marshal(s)
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

// allUp reports whether every container runs (or is paused, or being
// restarted by the keeper): nothing to start.
func allUp(cs []models.Container) bool {
	for _, c := range cs {
		if !isUp(c) {
			return false
		}
	}
	return true
}

func isUp(c models.Container) bool {
	return c.State == models.StateRunning || c.State == models.StatePaused || c.State == models.StateRestarting
}

// reconcile carries out p: it binds the ports of what it will create
// (so a taken port fails before anything is removed), removes the old
// containers of changed specs, starts the stopped unchanged ones in
// dependency order, then creates the new and changed ones as a stack
// (dependencies' conditions awaited). It reports each container, in
// dependency order, once all is done. On failure what the stack started is
// removed again; a removed old container is not brought back.
func (e *Engine) reconcile(ctx context.Context, p reconcilePlan, runOpts func(map[string][]models.PortMapping) func(models.ContainerSpec) runtime.RunOptions, report func(ReconcileResult)) ([]models.Container, error) {
	levels, err := stack.Levels(p.specs)
	if err != nil {
		return nil, err
	}
	var create []models.ContainerSpec
	for _, s := range p.specs {
		if a := p.steps[s.Name].action; a == ReconcileCreated || a == ReconcileRecreated {
			create = append(create, s)
		}
	}
	published, err := e.publish(ctx, create)
	if err != nil {
		return nil, err
	}
	now, err := e.applySteps(ctx, p, levels)
	if err == nil {
		var cs []models.Container
		cs, err = stack.Up(ctx, e.Runtime, create, stack.Options{Run: runOpts(published)})
		for _, c := range cs {
			now[c.Service] = append(now[c.Service], c)
		}
	}
	if err != nil {
		e.unpublish(ctx, published)
		return nil, err
	}
	var all []models.Container
	for _, level := range levels {
		for _, name := range level {
			report(ReconcileResult{Name: name, Action: p.steps[name].action, Containers: now[name]})
			all = append(all, now[name]...)
		}
	}
	return all, nil
}

// applySteps removes the old containers of changed specs and starts the
// stopped ones of unchanged specs, level by level. It returns the
// containers that now stand for each unchanged spec, by name.
func (e *Engine) applySteps(ctx context.Context, p reconcilePlan, levels [][]string) (map[string][]models.Container, error) {
	now := map[string][]models.Container{}
	for _, s := range p.specs {
		if p.steps[s.Name].action != ReconcileRecreated {
			continue
		}
		for _, c := range p.steps[s.Name].old {
			if _, err := e.Runtime.Remove(ctx, c.ID, runtime.RemoveOptions{Force: true}); err != nil {
				return nil, fmt.Errorf("recreate %s: remove its old container %s: %w", s.Name, c.ShortID(), err)
			}
		}
	}
	for _, level := range levels {
		for _, name := range level {
			st := p.steps[name]
			if st.action != ReconcileUnchanged && st.action != ReconcileStarted {
				continue
			}
			for _, c := range st.old {
				if !isUp(c) {
					var err error
					if c, err = e.Runtime.Start(ctx, c.ID); err != nil {
						return nil, err
					}
				}
				now[name] = append(now[name], c)
			}
		}
	}
	return now, nil
}
