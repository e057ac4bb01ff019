package engine

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/models"
)

func TestParseEventFilters(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    EventFilters
		wantErr string // a substring of the error; empty: no error
	}{
		{"none", nil, EventFilters{}, ""},
		{"repeated key", []string{"type=container", "type=keeper", "container=web"},
			EventFilters{"type": {"container", "keeper"}, "container": {"web"}}, ""},
		{"unknown key", []string{"colour=red"}, nil, `unknown key "colour" (keys: container, event, image, type)`},
		{"unknown type", []string{"type=volume"}, nil, `unknown type "volume" (types: container, keeper, peer)`},
		{"no value", []string{"container="}, nil, "want KEY=VALUE"},
		{"no equals", []string{"container"}, nil, "want KEY=VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEventFilters(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, errdefs.ErrInvalid) {
					t.Fatalf("error %v, want one containing %q wrapping ErrInvalid", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestEventFiltersMatch(t *testing.T) {
	start := EventMessage{Type: EventKindContainer, Action: "start", ID: "abcdef0123", Name: "web", Attributes: map[string]string{"image": "nginx:1"}}
	restarted := EventMessage{Type: EventKindKeeper, Action: "restarted", ID: "abcdef0123", Name: "web"}
	peer := EventMessage{Type: EventKindPeer, Action: "peer-appeared", Name: "web"}
	tests := []struct {
		name    string
		filters EventFilters
		m       EventMessage
		want    bool
	}{
		{"no filter", nil, start, true},
		{"type", EventFilters{"type": {"keeper"}}, start, false},
		{"one of the types", EventFilters{"type": {"container", "keeper"}}, restarted, true},
		{"container by name", EventFilters{"container": {"web"}}, restarted, true},
		{"container by ID prefix", EventFilters{"container": {"abc"}}, start, true},
		{"other container", EventFilters{"container": {"db"}}, start, false},
		{"a peer is no local container", EventFilters{"container": {"web"}}, peer, false},
		{"event and image", EventFilters{"event": {"start"}, "image": {"nginx:1"}}, start, true},
		{"keys all match", EventFilters{"event": {"start"}, "type": {"keeper"}}, start, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.filters.Match(tt.m); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNoticeMessage(t *testing.T) {
	now := time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)
	names := &nameCache{ids: map[string]containerRef{"id1": {name: "web", image: "nginx:1"}}}
	tests := []struct {
		name string
		n    keeper.Notice
		want EventMessage
	}{
		{"restart", keeper.Notice{Type: keeper.NoticeRestarted, ContainerID: "id1", Name: "web", Time: now, RestartCount: 2},
			EventMessage{Time: now, Type: EventKindKeeper, Action: "restarted", ID: "id1", Name: "web",
				Attributes: map[string]string{"image": "nginx:1", "restart_count": "2"}}},
		{"health", keeper.Notice{Type: keeper.NoticeHealth, ContainerID: "id1", Time: now, Health: models.HealthUnhealthy},
			EventMessage{Time: now, Type: EventKindKeeper, Action: "health_status", ID: "id1", Name: "web",
				Attributes: map[string]string{"image": "nginx:1", "health": "unhealthy"}}},
		{"exit", keeper.Notice{Type: keeper.NoticeExited, ContainerID: "id1", Name: "web", Time: now, ExitCode: 3},
			EventMessage{Time: now, Type: EventKindKeeper, Action: "exited", ID: "id1", Name: "web",
				Attributes: map[string]string{"image": "nginx:1", "exit_code": "3"}}},
		{"peer", keeper.Notice{Type: keeper.NoticePeer, Name: "db", Time: now, Peer: &models.PeerEvent{Type: models.PeerAppeared,
			Peer: models.Peer{Name: "db", NodeName: "attic", Image: "postgres:16", Address: "192.168.1.5"}}},
			EventMessage{Time: now, Type: EventKindPeer, Action: "peer-appeared", Name: "db",
				Attributes: map[string]string{"node": "attic", "image": "postgres:16", "address": "192.168.1.5"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := noticeMessage(context.Background(), tt.n, names); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestStreamEventsRefusesThePast(t *testing.T) {
	e := &Engine{} // the checks come before containerd is needed
	noop := func(EventMessage) error { return nil }
	for name, opts := range map[string]StreamEventsOptions{
		"since an hour ago":  {Since: time.Now().Add(-time.Hour), Event: noop},
		"until a minute ago": {Until: time.Now().Add(-time.Minute), Event: noop},
	} {
		t.Run(name, func(t *testing.T) {
			err := e.StreamEvents(context.Background(), opts)
			if !errors.Is(err, ErrNoEventHistory) || !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("error %v, want ErrNoEventHistory and ErrInvalid", err)
			}
			if msg := errdefs.Message(err); strings.HasSuffix(msg, "invalid") {
				t.Errorf("message ends in the sentinel: %q", msg)
			}
		})
	}
}
