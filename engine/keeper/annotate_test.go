package keeper

import (
	"testing"
	"time"

	"github.com/budgie-sh/budgie/models"
)

func TestAnnotate(t *testing.T) {
	check := &models.HealthCheck{Cmd: []string{"true"}}
	next := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cs := []models.Container{
		{ID: "a", State: models.StateRunning, Spec: models.ContainerSpec{Health: check}}, // keeper has not seen it yet
		{ID: "b", State: models.StateRunning, Spec: models.ContainerSpec{Health: check}}, // keeper knows its health
		{ID: "c", State: models.StateRunning},                                            // no check
		{ID: "d", State: models.StateExited, Spec: models.ContainerSpec{Health: check}},  // waiting for a restart
		{ID: "e", State: models.StateExited, Spec: models.ContainerSpec{Health: check}},  // stopped, no state
	}
	annotate(cs, []Supervision{
		{ID: "b", Health: &models.Health{Status: models.HealthUnhealthy}},
		{ID: "d", Restarting: true, NextRestart: next},
	})
	want := []struct {
		state  models.ContainerState
		health models.HealthStatus
	}{
		{models.StateRunning, models.HealthStarting},
		{models.StateRunning, models.HealthUnhealthy},
		{models.StateRunning, models.HealthNone},
		{models.StateRestarting, models.HealthNone},
		{models.StateExited, models.HealthNone},
	}
	for i, w := range want {
		if cs[i].State != w.state || cs[i].Health != w.health {
			t.Errorf("%s: state %s health %q, want %s %q", cs[i].ID, cs[i].State, cs[i].Health, w.state, w.health)
		}
	}
	if !cs[3].NextRestart.Equal(next) {
		t.Errorf("next restart not copied: %v", cs[3].NextRestart)
	}
}
