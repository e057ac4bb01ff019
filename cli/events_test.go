package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine"
)

func TestEventsTime(t *testing.T) {
	now := time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)
	tests := []struct {
		flag, in  string
		durations bool
		want      time.Time
		wantErr   string
	}{
		{"--until", "", true, time.Time{}, ""},
		{"--until", "30s", true, now.Add(30 * time.Second), ""},
		{"--until", "2026-12-04T20:00:00Z", true, now.Add(time.Hour), ""},
		{"--until", "1796410800", true, time.Unix(1796410800, 0), ""},
		{"--until", "1796410800.5", true, time.Unix(1796410800, 500_000_000), ""},
		{"--since", "10m", false, time.Time{}, "--since needs past events (10m ago)"},
		{"--until", "soon", true, time.Time{}, "a duration from now"},
		{"--since", "soon", false, time.Time{}, "want a timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.flag+" "+tt.in, func(t *testing.T) {
			got, err := eventsTime(tt.flag, tt.in, now, tt.durations)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, errInvalid) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestEventOutput(t *testing.T) {
	at := time.Date(2026, 12, 4, 19, 0, 0, 5, time.UTC)
	m := engine.EventMessage{Time: at, Type: "container", Action: "exit", ID: strings.Repeat("ab", 32), Name: "web",
		Attributes: map[string]string{"image": "nginx:1", "exit_code": "3"}}
	tests := []struct {
		format string
		m      engine.EventMessage
		want   string
	}{
		{"table", m, "2026-12-04T19:00:00.000000005Z container exit web (exit_code=3, image=nginx:1)\n"},
		{"table", engine.EventMessage{Time: at, Type: "container", Action: "remove", ID: strings.Repeat("ab", 32)},
			"2026-12-04T19:00:00.000000005Z container remove abababababab\n"},
		{"table", engine.EventMessage{Time: at, Type: "keeper", Action: "restarted", Name: "evil\x1b[2J"},
			"2026-12-04T19:00:00.000000005Z keeper restarted evil\\x1b[2J\n"},
		{"json", m, `{"time":"2026-12-04T19:00:00.000000005Z","type":"container","action":"exit","id":"` + strings.Repeat("ab", 32) +
			`","name":"web","attributes":{"exit_code":"3","image":"nginx:1"}}` + "\n"},
		{"{{.Type}} {{.Action}} {{.Name}} {{index .Attributes \"exit_code\"}}", m, "container exit web 3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var out bytes.Buffer
			print, err := eventPrinter(&out, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if err := print(tt.m); err != nil || out.String() != tt.want {
				t.Errorf("printed %q (%v), want %q", out.String(), err, tt.want)
			}
		})
	}
	if _, err := eventPrinter(&bytes.Buffer{}, "{{.Nope"); !errors.Is(err, errInvalid) {
		t.Errorf("a bad template: %v, want errInvalid", err)
	}
}
