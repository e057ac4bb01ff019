//go:build integration

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/containerd/containerd/containers"

	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// TestCLIDamagedSpecLabel corrupts a container's budgie.spec label in
// containerd, as a bad write or a hand edit could, and checks that every
// view still shows the container and says what is broken: ps's STATUS,
// inspect's State.Error and Budgie.Damaged, and the list nest reads.
func TestCLIDamagedSpecLabel(t *testing.T) {
	path, name := writeBundle(t, "args: [sleep, \"3600\"]\n")
	id := strings.TrimSpace(must(t, "run", path))
	ctx := ctrEnv.Context()
	_, err := ctrEnv.Client().ContainerService().Update(ctx,
		containers.Container{ID: id, Labels: map[string]string{runtime.LabelSpec + ".0": `{"name":"cut short`}},
		"labels."+runtime.LabelSpec+".0")
	if err != nil {
		t.Fatal(err)
	}

	if out := must(t, "ps"); !strings.Contains(out, "damaged: budgie.spec (Up ") || !strings.Contains(out, name) {
		t.Errorf("ps does not show %s as damaged:\n%s", name, out)
	}
	var listed []models.Container
	if err := json.Unmarshal([]byte(must(t, "ps", "-a", "--format", "json")), &listed); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range listed {
		if c.ID == id {
			found = true
			if len(c.Damaged) != 1 || c.Damaged[0].Label != runtime.LabelSpec || c.State != models.StateRunning {
				t.Errorf("ps --format json: %+v, want running with budgie.spec damaged", c)
			}
		}
	}
	if !found {
		t.Errorf("ps -a --format json lacks %s", id)
	}

	var inspected []models.Inspect
	if err := json.Unmarshal([]byte(must(t, "inspect", name)), &inspected); err != nil {
		t.Fatal(err)
	}
	in := inspected[0]
	if !strings.Contains(in.State.Error, "damaged label budgie.spec") || !strings.Contains(in.State.Error, "unexpected end of JSON input") {
		t.Errorf("inspect State.Error = %q, want the label and its decode error", in.State.Error)
	}
	if len(in.Budgie.Damaged) != 1 || in.Budgie.Damaged[0].Label != runtime.LabelSpec {
		t.Errorf("inspect Budgie.Damaged = %+v", in.Budgie.Damaged)
	}

	rt, err := ctrEnv.Runtime()
	if err != nil {
		t.Fatal(err)
	}
	// nest's containers view lists through this call (engine.Containers).
	all, err := rt.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var c models.Container
	for _, x := range all {
		if x.ID == id {
			c = x
		}
	}
	if c.DamagedLabels() != runtime.LabelSpec {
		t.Errorf("engine list: %q damaged, want %s", c.DamagedLabels(), runtime.LabelSpec)
	}

	// A restart would run without the spec's networks and secrets: refused,
	// naming the label.
	must(t, "stop", "-t", "1", name)
	if r := budgie(t, "start", name); r.code == 0 || !strings.Contains(r.stderr, "budgie.spec label is damaged") {
		t.Errorf("start of a damaged container: exit %d, stderr %q", r.code, r.stderr)
	}

	must(t, "rm", "-f", name)
	if out := must(t, "ps", "-a", "-q", "--no-trunc"); strings.Contains(out, id) {
		t.Errorf("rm -f left the damaged container:\n%s", out)
	}
}
