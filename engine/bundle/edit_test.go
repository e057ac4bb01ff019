package bundle

import (
	"slices"
	"strings"
	"testing"
)

func TestFieldEdits(t *testing.T) {
	tests := []struct {
		name, src string
		id, text  string
		want      string
	}{
		{"argv one line is a string", "name: a\ncommand: [sh, -c, x]\n", "command", "sleep 10",
			"name: a\ncommand: sleep 10\n"},
		{"argv lines are a list", "name: a\ncommand: sleep 10\n", "command", "sleep\n10",
			"name: a\ncommand:\n  - sleep\n  - \"10\"\n"},
		{"list keeps item comments", "ports:\n  - 80:80 # web\n  - 443:443\n", "ports", "80:80\n8080:8080",
			"ports:\n  - 80:80 # web\n  - 8080:8080\n"},
		{"env map stays a map", "env:\n  A: \"1\" # one\n", "env", "A=1\nB=2",
			"env:\n  A: \"1\" # one\n  B: \"2\"\n"},
		{"last nested field removes parent", "name: a\nresources:\n  memory: 64MiB\nlabels: {a: b}\n", "resources.memory", "",
			"name: a\nlabels: {a: b}\n"},
		{"nested field inserted in order", "name: a\nimage: b\nlabels:\n  x: y\n", "resources.cpus", "0.5",
			"name: a\nimage: b\nresources:\n  cpus: 0.5\nlabels:\n  x: y\n"},
		{"replicas strategy needs the map form", "replicas: 3 # three\n", "replicas.strategy", "least-connections",
			"replicas:\n  count: 3 # three\n  strategy: least-connections\n"},
		{"restart map becomes a string", "restart_policy:\n  name: always\n", "restart_policy", "on-failure:2",
			"restart_policy: on-failure:2\n"},
		{"quoted scalar stays quoted", "image: \"busybox\" # img\n", "image", "alpine",
			"image: \"alpine\" # img\n"},
		{"volume long form kept", "volumes:\n  - {type: bind, source: ./d, target: /d}\n", "volumes", "./d:/d\ndata:/data",
			"volumes:\n  - {type: bind, source: ./d, target: /d}\n  - data:/data\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDocument([]byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			d.Write(tt.id, tt.text)
			got, err := d.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			k := KindOf(tt.id)
			if back := mustParse(t, got).Read(tt.id); NormalizeField(k, back) != NormalizeField(k, tt.text) {
				t.Errorf("reads back %q, want %q", back, tt.text)
			}
		})
	}
}

func mustParse(t *testing.T, data []byte) *Document {
	t.Helper()
	d, err := ParseDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestStackEditsFirstContainer(t *testing.T) {
	src := "containers:\n  - name: a # first\n    image: x\n  - name: b\n    image: y\n"
	d := mustParse(t, []byte(src))
	if d.Containers() != 2 {
		t.Fatalf("Containers() = %d, want 2", d.Containers())
	}
	d.Write("image", "z")
	got, _ := d.Encode()
	want := "containers:\n  - name: a # first\n    image: z\n  - name: b\n    image: y\n"
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestFieldKindsNameSchemaFields: every field given a kind other than
// FieldLine is a field of the schema (a typo would silently make it one line).
func TestFieldKindsNameSchemaFields(t *testing.T) {
	for path := range fieldKinds {
		parent, key, nested := strings.Cut(path, ".")
		if !nested {
			parent, key = "", path
		}
		if !slices.Contains(Fields(parent), key) {
			t.Errorf("fieldKinds names %q, which is not in Fields(%q)", path, parent)
		}
	}
	if KindOf("env") != FieldPairs || KindOf("resources.memory") != FieldLine || KindOf("health.cmd") != FieldArgv {
		t.Error("KindOf disagrees with the schema for env, resources.memory or health.cmd")
	}
}
