//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/internal/testkit"
)

// formatCase is one listing's --format check: its JSON keys, and a
// template whose output it must print.
type formatCase struct {
	name   string
	args   []string
	keys   []string // keys every item (or the one object) has
	object bool     // one document (an object), not an array
	tmpl   string
	want   func(out string) bool // the template's output
}

func TestCLIFormatEveryListing(t *testing.T) {
	path, name := writeBundle(t, "args: [sh, -c, \"echo hi; while :; do sleep 0.1; done\"]\n")
	must(t, "run", path)
	vol := fmt.Sprintf("fmtvol%d", time.Now().UnixNano())
	must(t, "volume", "create", vol)
	t.Cleanup(func() { budgie(t, "volume", "rm", "-f", vol) })
	secret := makeSecret(t, fmt.Sprintf("fmtsecret%d", time.Now().UnixNano()))
	if r := budgie(t, "replicas"); r.code == 4 { // replicas asks the keeper
		must(t, "keeper", "restart")
	}
	has := func(s string) func(string) bool { return func(out string) bool { return strings.Contains(out, s) } }
	cases := []formatCase{
		{"ps", []string{"ps", "-a", "--filter", "name=" + name}, []string{"id", "name", "image", "state", "created"}, false,
			"{{.Name}} {{.State}}", func(out string) bool { return out == name+" running\n" }},
		{"images", []string{"images"}, []string{"name", "repository", "tag", "id", "size"}, false,
			"{{.Repository}}:{{.Tag}}", has(cliImage)},
		{"volume ls", []string{"volume", "ls"}, []string{"name", "mountpoint", "used_by"}, false, "{{.Name}}", has(vol + "\n")},
		{"secret ls", []string{"secret", "ls"}, []string{"name", "size", "created", "used_by"}, false,
			"{{.Name}} {{.Size}}", has(secret + " 6\n")},
		{"network ls", []string{"network", "ls"}, []string{"name", "bridge", "subnet", "gateway"}, false,
			"{{.Name}} {{.Bridge}}", has(testkit.TestBridge)},
		{"trust ls", []string{"trust", "ls"}, []string{"trusted", "pending", "denied"}, true,
			"{{len .Trusted}} {{len .Pending}}", func(out string) bool { _, err := fmt.Sscanf(out, "%d %d\n", new(int), new(int)); return err == nil }},
		{"replicas", []string{"replicas"}, []string{"container_id", "name", "state"}, false,
			"{{.Name}}", func(string) bool { return true }},
		{"chirp", []string{"chirp", "--timeout", "300ms"}, []string{"node_id", "name", "container_id", "address"}, false,
			"{{.Name}}@{{.NodeName}}", func(string) bool { return true }},
		{"system info", []string{"system", "info"}, []string{"containerd", "version", "socket", "namespace", "data_dir"}, true,
			"{{.Namespace}}", func(out string) bool { return out == testkit.Namespace+"\n" }},
		{"config", []string{"config"}, []string{"file", "config", "sources"}, true,
			"{{.Config.containerd.namespace}}", func(out string) bool { return out == testkit.Namespace+"\n" }},
		{"system df", []string{"system", "df"}, []string{"images", "containers", "volumes"}, true,
			"{{.Containers.Total}}", func(out string) bool { var n int; _, err := fmt.Sscanf(out, "%d\n", &n); return err == nil && n > 0 }},
		{"stats", []string{"stats", "--no-stream", "--interval", "200ms", name}, []string{"id", "name", "cpu_percent", "mem_usage", "pids"}, false,
			"{{.Name}}", func(out string) bool { return out == name+"\n" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkJSONKeys(t, c, must(t, append(c.args, "--format", "json")...))
			if out := must(t, append(c.args, "--format", c.tmpl)...); !c.want(out) {
				t.Errorf("%v --format %q printed %q", c.args, c.tmpl, out)
			}
			for _, bad := range []string{"{{.Name", "{{range}}"} {
				r := budgie(t, append(c.args, "--format", bad)...)
				if r.code != 2 || !strings.Contains(r.stderr, "bad --format template") || r.stdout != "" {
					t.Errorf("%v --format %q: exit %d, stdout %q, stderr %q; want exit 2 naming the template", c.args, bad, r.code, r.stdout, r.stderr)
				}
			}
		})
	}
	// A field the items lack fails on the first item, printing nothing.
	if r := budgie(t, "ps", "-a", "--filter", "name="+name, "--format", "{{.Nope}}"); r.code != 2 || r.stdout != "" ||
		!strings.Contains(r.stderr, "can't evaluate field Nope") {
		t.Errorf("ps --format {{.Nope}}: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// checkJSONKeys parses out as c's array (or object) and checks the keys.
func checkJSONKeys(t *testing.T, c formatCase, out string) {
	t.Helper()
	var items []map[string]any
	if c.object {
		var one map[string]any
		if err := json.Unmarshal([]byte(out), &one); err != nil {
			t.Fatalf("%v --format json: %v in %q", c.args, err, out)
		}
		items = append(items, one)
	} else if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatalf("%v --format json: %v in %q", c.args, err, out)
	}
	for _, item := range items {
		for _, k := range c.keys {
			if _, ok := item[k]; !ok {
				t.Errorf("%v --format json: an item lacks %q: %v", c.args, k, item)
			}
		}
	}
}

func TestCLIFormatEvents(t *testing.T) {
	path, name := writeBundle(t, "args: [sh, -c, \"while :; do sleep 0.1; done\"]\n")
	js := startStream(t, "events", "--format", "json", "--filter", "container="+name, "--filter", "type=container")
	tmpl := startStream(t, "events", "--format", "{{.Type}} {{.Action}} {{.Name}}", "--filter", "container="+name, "--filter", "type=container")
	time.Sleep(time.Second) // both streams subscribed
	must(t, "run", path)
	js.waitLine(t, "a JSON start event", 15*time.Second, func(line string) bool {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			return false
		}
		for _, k := range []string{"time", "type", "action", "id", "name"} {
			if _, ok := m[k]; !ok {
				return false
			}
		}
		return m["action"] == "start" && m["name"] == name
	})
	tmpl.waitLine(t, "the template's start line", 15*time.Second, func(line string) bool { return line == "container start "+name })
	if r := budgie(t, "events", "--format", "{{.Name", "--until", "1s"); r.code != 2 || !strings.Contains(r.stderr, "bad --format template") {
		t.Errorf("events with a bad template: exit %d, stderr %q", r.code, r.stderr)
	}
}
