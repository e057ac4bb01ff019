package engine

import (
	"encoding/json"
	"testing"

	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// stored returns spec as a container reads it back from its labels (a
// JSON round trip), in state st.
func stored(t *testing.T, s models.ContainerSpec, st models.ContainerState) models.Container {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back models.ContainerSpec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return models.Container{ID: "id-" + s.Name, Name: s.Name, Service: s.Name, State: st, Spec: back}
}

func replicas(t *testing.T, s models.ContainerSpec, n int, st models.ContainerState) []models.Container {
	var out []models.Container
	for i := 1; i <= n; i++ {
		c := stored(t, runtime.ReplicaSpec(s, i), st)
		c.Service, c.Replica = s.Name, i
		out = append(out, c)
	}
	return out
}

func TestPlanReconcile(t *testing.T) {
	web := models.ContainerSpec{Name: "web", Image: "busybox", Env: []string{"A=1"}, Labels: map[string]string{}}
	webEnv := web
	webEnv.Env = []string{"A=2"}
	db := models.ContainerSpec{Name: "db", Image: "busybox"}
	app := models.ContainerSpec{Name: "app", Image: "busybox", DependsOn: []models.Dependency{{Name: "db"}}}
	front := models.ContainerSpec{Name: "front", Image: "busybox", DependsOn: []models.Dependency{{Name: "app"}}}
	rep := models.ContainerSpec{Name: "rep", Image: "busybox", Replicas: &models.Replicas{Count: 2}}
	rep3 := rep
	rep3.Replicas = &models.Replicas{Count: 3}
	damaged := stored(t, web, models.StateRunning)
	damaged.Damaged = []models.LabelError{{Label: runtime.LabelSpec, Error: "cut short"}}
	other := stored(t, models.ContainerSpec{Name: "rep-1", Image: "busybox"}, models.StateRunning)

	tests := []struct {
		name     string
		specs    []models.ContainerSpec
		existing []models.Container
		want     map[string]ReconcileAction
		exists   bool
	}{
		{"nothing exists", []models.ContainerSpec{web, db}, nil,
			map[string]ReconcileAction{"web": ReconcileCreated, "db": ReconcileCreated}, false},
		{"same spec, nil and empty alike", []models.ContainerSpec{web}, []models.Container{stored(t, web, models.StateRunning)},
			map[string]ReconcileAction{"web": ReconcileUnchanged}, true},
		{"stopped", []models.ContainerSpec{web}, []models.Container{stored(t, web, models.StateExited)},
			map[string]ReconcileAction{"web": ReconcileStarted}, true},
		{"never started", []models.ContainerSpec{web}, []models.Container{stored(t, web, models.StateCreated)},
			map[string]ReconcileAction{"web": ReconcileStarted}, true},
		{"changed env", []models.ContainerSpec{webEnv}, []models.Container{stored(t, web, models.StateRunning)},
			map[string]ReconcileAction{"web": ReconcileRecreated}, true},
		{"damaged labels", []models.ContainerSpec{web}, []models.Container{damaged},
			map[string]ReconcileAction{"web": ReconcileRecreated}, true},
		{"mixed", []models.ContainerSpec{web, db, app}, []models.Container{stored(t, web, models.StateRunning), stored(t, models.ContainerSpec{Name: "db", Image: "alpine"}, models.StateRunning)},
			map[string]ReconcileAction{"web": ReconcileUnchanged, "db": ReconcileRecreated, "app": ReconcileCreated}, true},
		{"stopped dependents of a new container are recreated, transitively",
			[]models.ContainerSpec{db, app, front},
			[]models.Container{stored(t, app, models.StateExited), stored(t, front, models.StateExited)},
			map[string]ReconcileAction{"db": ReconcileCreated, "app": ReconcileRecreated, "front": ReconcileRecreated}, true},
		{"running dependents stay", []models.ContainerSpec{db, app}, []models.Container{stored(t, app, models.StateRunning)},
			map[string]ReconcileAction{"db": ReconcileCreated, "app": ReconcileUnchanged}, true},
		{"replicas unchanged", []models.ContainerSpec{rep}, replicas(t, rep, 2, models.StateRunning),
			map[string]ReconcileAction{"rep": ReconcileUnchanged}, true},
		{"replica count changed", []models.ContainerSpec{rep3}, replicas(t, rep, 2, models.StateRunning),
			map[string]ReconcileAction{"rep": ReconcileRecreated}, true},
		{"replica missing", []models.ContainerSpec{rep}, replicas(t, rep, 2, models.StateRunning)[:1],
			map[string]ReconcileAction{"rep": ReconcileRecreated}, true},
		{"single became replicated", []models.ContainerSpec{rep}, []models.Container{stored(t, models.ContainerSpec{Name: "rep", Image: "busybox"}, models.StateRunning)},
			map[string]ReconcileAction{"rep": ReconcileRecreated}, true},
		{"a stranger named like a replica is not ours", []models.ContainerSpec{rep}, []models.Container{other},
			map[string]ReconcileAction{"rep": ReconcileCreated}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planReconcile(tt.specs, tt.existing)
			for name, want := range tt.want {
				if got := p.steps[name].action; got != want {
					t.Errorf("%s: %s, want %s", name, got, want)
				}
			}
			if p.anyExists() != tt.exists {
				t.Errorf("anyExists = %v, want %v", p.anyExists(), tt.exists)
			}
		})
	}
}
