package keeper

import (
	"testing"

	"github.com/budgie-sh/budgie/models"
)

// TestDrainEvents: a burst of events of containers the last reconcile saw
// without ports asks for no listing, one event of any other container
// does, an exit anywhere asks for a hosts refresh, and a closed stream is
// reported.
func TestDrainEvents(t *testing.T) {
	portless := map[string]bool{"quiet1": true, "quiet2": true, "web": false}
	cases := []struct {
		name               string
		first              models.Event
		queued             []models.Event
		close              bool
		exited, publishing bool
		open               bool
	}{
		{name: "portless only", first: models.Event{Type: models.EventStart, ContainerID: "quiet1"},
			queued: []models.Event{{Type: models.EventUpdate, ContainerID: "quiet2"}}, open: true},
		{name: "portless exit", first: models.Event{Type: models.EventExit, ContainerID: "quiet1"},
			exited: true, open: true},
		{name: "a published one behind", first: models.Event{Type: models.EventUpdate, ContainerID: "quiet1"},
			queued: []models.Event{{Type: models.EventStart, ContainerID: "web"}}, publishing: true, open: true},
		{name: "a new container", first: models.Event{Type: models.EventCreate, ContainerID: "new"},
			publishing: true, open: true},
		{name: "stream closed", first: models.Event{Type: models.EventExit, ContainerID: "quiet2"},
			close: true, exited: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := make(chan models.Event, len(tc.queued))
			for _, ev := range tc.queued {
				ch <- ev
			}
			if tc.close {
				close(ch)
			}
			burst, open := drainEvents(ch, tc.first, portless)
			if burst.exited != tc.exited || burst.publishing != tc.publishing || open != tc.open {
				t.Errorf("got %+v open=%v, want exited=%v publishing=%v open=%v", burst, open, tc.exited, tc.publishing, tc.open)
			}
			if len(ch) != 0 {
				t.Errorf("%d events left queued", len(ch))
			}
		})
	}
}
