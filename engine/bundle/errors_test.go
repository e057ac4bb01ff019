package bundle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

func errorsIsNotFound(err error) bool { return errors.Is(err, errdefs.ErrNotFound) }
func errorsIsInvalid(err error) bool  { return errors.Is(err, errdefs.ErrInvalid) }

// TestParseErrors checks that each bad bundle fails with ErrInvalid and that
// its problems include the given lines exactly (file:line:col: field:
// message (hint: …)).
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"empty file", "", []string{"b.bun:1:1: the bundle is empty (hint: a bundle needs at least name: and image:)"}},
		{"only comments", "# nothing\n\n", []string{"b.bun:1:1: the bundle is empty (hint: a bundle needs at least name: and image:)"}},
		{"null document", "~\n", []string{"b.bun:1:1: the bundle is empty (hint: a bundle needs at least name: and image:)"}},
		{"yaml syntax", "name: a\nimage: [busybox\nuser: x\n", []string{
			"b.bun:1: invalid YAML: did not find expected ',' or ']' (hint: check the indentation and quoting around this line)"}},
		{"yaml tab indent", "name: a\n\timage: busybox\n", []string{
			"b.bun:2: invalid YAML: found a tab character that violates indentation (hint: check the indentation and quoting around this line)"}},
		{"top-level list", "- name: a\n", []string{
			"b.bun:1:1: must be a map, not a list (hint: a bundle is a map of fields (name:, image:, …) or a containers: list)"}},
		{"two documents", header + "---\n" + header, []string{
			"b.bun:3:1: the file holds more than one YAML document (hint: put the containers of a stack in a containers: list)"}},
		{"missing name and image", "user: nobody\n", []string{
			"b.bun:1:1: name: is required (hint: every container needs a name: field)",
			`b.bun:1:1: image: is required (hint: add image: such as "busybox" or "localhost:5000/app:1.2")`}},
		{"bad name", "name: -web\nimage: busybox\n", []string{
			`b.bun:1:7: name: invalid name "-web" (hint: use letters, digits, _, . and -, starting with a letter or digit)`}},
		{"long name", "name: " + strings.Repeat("a", 64) + "\nimage: busybox\n", []string{
			`b.bun:1:7: name: name "` + strings.Repeat("a", 64) + `" is too long (at most 63 characters)`}},
		{"typo is not also missing", "name: a\nimgae: busybox\n", []string{
			`b.bun:2:1: imgae: unknown field "imgae" (hint: did you mean image?)`}},
		{"did you mean", header + "imgae: busybox\ncomand: [x]\n", []string{
			`b.bun:3:1: imgae: unknown field "imgae" (hint: did you mean image?)`,
			`b.bun:4:1: comand: unknown field "comand" (hint: did you mean command?)`}},
		{"compose names", header + "environment: [A=1]\nmemory: 1g\n", []string{
			`b.bun:3:1: environment: unknown field "environment" (hint: use env)`,
			`b.bun:4:1: memory: unknown field "memory" (hint: use resources.memory)`}},
		{"nothing near", header + "zzzzzz: 1\n", []string{
			`b.bun:3:1: zzzzzz: unknown field "zzzzzz" (hint: the fields are listed in docs/bundle.md)`}},
		{"unknown nested field lists known", header + "replicas: {cuont: 2, zz: 1}\n", []string{
			`b.bun:3:12: replicas.cuont: unknown field "cuont" (hint: did you mean count?)`,
			`b.bun:3:22: replicas.zz: unknown field "zz" (hint: known fields: count, strategy)`,
			`b.bun:3:11: replicas.count: is required`}},
		{"wrong types", header + "user: [a, b]\ncommand: {a: b}\nenv: 3\nports: {a: 1}\nworkdir:\n", []string{
			"b.bun:3:7: user: must be a string, not a list",
			"b.bun:4:10: command: must be a string, not a map",
			"b.bun:5:6: env: must be a list of KEY=VALUE or a map, not a number",
			"b.bun:6:8: ports: must be a list of ports, not a map",
			"b.bun:7:9: workdir: needs a value (a string)"}},
		{"duplicate key", header + "user: a\nuser: b\n", []string{"b.bun:4:1: user: appears twice (first at line 3)"}},
		{"ports", header + "ports: [\"0:80\", \"8080:70000\", \"80/sctp\", \"8000-8010:80\", \"1.2.3:80:80\", \"::1:80:80\", abc]\n", []string{
			`b.bun:3:9: ports[0]: port 0 is out of range (1 to 65535)`,
			`b.bun:3:17: ports[1]: port 70000 is out of range (1 to 65535)`,
			`b.bun:3:31: ports[2]: invalid protocol "sctp" (hint: the protocol is "tcp" (the default), "http" (balanced per request) or "udp")`,
			`b.bun:3:42: ports[3]: port ranges such as "8000-8010" are not supported (hint: list each port on its own)`,
			`b.bun:3:58: ports[4]: invalid host address "1.2.3" (hint: write "8080:80", "8080:80/http", "127.0.0.1:8080:80/udp" or "80" (a random host port))`,
			`b.bun:3:73: ports[5]: invalid port "::1:80:80" (hint: write "8080:80", "8080:80/http", "127.0.0.1:8080:80/udp" or "80" (a random host port); write IPv6 addresses in brackets: [::1]:8080:80)`,
			`b.bun:3:86: ports[6]: invalid port "abc" (hint: write "8080:80", "8080:80/http", "127.0.0.1:8080:80/udp" or "80" (a random host port))`}},
		{"duplicate host port", header + "ports:\n  - \"8080:80\"\n  - \"0.0.0.0:8080:81\"\n", []string{
			"b.bun:5:5: ports[1]: host port 8080/tcp is already published by ports[0] (line 4) (hint: each host port can be published once)"}},
		{"volumes", header + "volumes:\n  - data:relative\n  - /data\n  - bad name:/x\n  - ~/x:/x\n  - d:/x:rx\n  - d:/\n  - e:/y\n  - f:/y/\n", []string{
			`b.bun:4:5: volumes[0]: target "relative" is not an absolute path (hint: the path inside the container starts with /)`,
			`b.bun:5:5: volumes[1]: invalid volume "/data" (hint: write "NAME:/path", "NAME:/path:ro", "/host/path:/path" or "./dir:/path")`,
			`b.bun:6:5: volumes[2]: invalid volume name "bad name" (hint: use letters, digits, _, . and -, starting with a letter or digit; a host path starts with / or ./)`,
			`b.bun:7:5: volumes[3]: ~ is not expanded in "~/x" (hint: write the full path)`,
			`b.bun:8:5: volumes[4]: invalid volume mode "rx" (hint: the mode is "ro" or "rw")`,
			`b.bun:9:5: volumes[5]: cannot mount over /`,
			`b.bun:11:5: volumes[7]: /y is mounted twice (first at line 10)`}},
		{"volume long form", header + "volumes:\n  - {type: volume, source: /abs, target: /a}\n  - {type: tmpfs, target: /b}\n  - {source: d, taget: /c}\n", []string{
			`b.bun:4:5: volumes[0]: a volume name cannot be a path: "/abs" (hint: use type: bind for a host path)`,
			`b.bun:5:5: volumes[1].source: is required`,
			`b.bun:5:12: volumes[1].type: invalid volume type "tmpfs" (hint: the type is "volume" or "bind")`,
			`b.bun:6:5: volumes[2].target: is required`,
			`b.bun:6:17: volumes[2].taget: unknown field "taget" (hint: did you mean target?)`}},
		{"memory units", header + "resources:\n  memory: 64 potatoes\n  memory_swap: lots\n", []string{
			`b.bun:4:11: resources.memory: unknown unit "potatoes" in "64 potatoes" (hint: the units are B, KB/KiB/k, MB/MiB/m, GB/GiB/g and TB/TiB/t)`,
			`b.bun:5:16: resources.memory_swap: invalid size "lots" (hint: write a size such as "64MiB", "1.5GiB", "512m" or a number of bytes)`}},
		{"memory limits", header + "resources:\n  memory: 1MiB\n", []string{
			`b.bun:4:11: resources.memory: 1MiB is below the minimum of 6MiB`}},
		{"swap below memory", header + "resources:\n  memory: 1g\n  memory_swap: 512m\n", []string{
			`b.bun:5:16: resources.memory_swap: must be at least memory (1073741824 bytes) (hint: memory_swap is memory plus swap)`}},
		{"swap without memory", header + "resources: {memory_swap: 1g}\n", []string{
			`b.bun:3:26: resources.memory_swap: needs memory to be set (hint: memory_swap is memory plus swap)`}},
		{"cpu conflicts", header + "resources:\n  cpus: 1.5\n  cpu_quota: 10000\n", []string{
			`b.bun:4:9: resources.cpus: set either cpus or cpu_quota and cpu_period, not both (hint: cpus: 0.5 is cpu_quota: 50000 with cpu_period: 100000)`}},
		{"cpu ranges", header + "resources: {cpus: 0, cpu_period: 100, blkio_weight: 5, cpu_shares: x}\n", []string{
			`b.bun:3:19: resources.cpus: must be at least 0.01`,
			`b.bun:3:34: resources.cpu_period: 100 is out of range (1000 to 1000000)`,
			`b.bun:3:53: resources.blkio_weight: 5 is out of range (10 to 1000)`,
			`b.bun:3:68: resources.cpu_shares: must be a whole number, not "x"`}},
		{"cpu period alone", header + "resources: {cpu_period: 50000}\n", []string{
			`b.bun:3:25: resources.cpu_period: cpu_period has no effect without cpu_quota (hint: add cpu_quota, or use cpus)`}},
		{"restart policy", header + "restart_policy: sometimes\n", []string{
			`b.bun:3:17: restart_policy: invalid restart policy "sometimes" (hint: write "no", "always", "unless-stopped", "on-failure" or "on-failure:3")`}},
		{"restart retries", header + "restart_policy: {name: always, max_retries: 2}\n", []string{
			`b.bun:3:45: restart_policy.max_retries: max_retries only applies to on-failure`}},
		{"restart retries negative", header + "restart_policy: on-failure:-1\n", []string{
			`b.bun:3:17: restart_policy: -1 is out of range (0 to 2147483647)`}},
		{"durations", header + "stop_timeout: soon\nhealth: {tcp: \"80\", interval: -5s}\n", []string{
			`b.bun:3:15: stop_timeout: invalid duration "soon" (hint: write a duration such as "10s", "1m30s" or "500ms", or whole seconds)`,
			`b.bun:4:31: health.interval: must not be negative`}},
		{"signals", header + "stop_signal: SIGBOGUS\n", []string{
			`b.bun:3:14: stop_signal: unknown signal "SIGBOGUS" (hint: write a name such as "SIGTERM", "TERM" or "SIGRTMIN+3", or a number such as 15)`}},
		{"signal number", header + "stop_signal: 99\n", []string{`b.bun:3:14: stop_signal: unknown signal "99"`}},
		{"tty and stdin_open", header + "tty: maybe\nstdin_open: [x]\ninteractive: true\n", []string{
			`b.bun:3:6: tty: must be true or false, not "maybe"`,
			`b.bun:4:13: stdin_open: must be true or false, not a list`,
			`b.bun:5:1: interactive: unknown field "interactive" (hint: use stdin_open)`}},
		{"health without probe", header + "health: {interval: 5s}\n", []string{
			`b.bun:3:9: health: needs a probe (hint: add cmd:, http: or tcp:)`}},
		{"health two probes", header + "health: {tcp: \"80\", http: \":80\"}\n", []string{
			`b.bun:3:9: health: set only one of cmd, http and tcp`}},
		{"health bad probes", header + "health: {http: \"ftp://x\", tcp: \"x:0\", on_unhealthy: kill, cmd: []}\n", []string{
			`b.bun:3:9: health: set only one of cmd, http and tcp`,
			`b.bun:3:16: health.http: invalid http probe "ftp://x"`,
			`b.bun:3:32: health.tcp: invalid tcp probe "x:0"`,
			`b.bun:3:53: health.on_unhealthy: invalid action "kill"`,
			`b.bun:3:64: health.cmd: is empty`}},
		{"health bare path", header + "health: {http: /healthz}\n", []string{
			`b.bun:3:16: health.http: invalid http probe "/healthz" (hint: write ":PORT/path" such as ":8080/healthz" (that port on the container's own address), or a full http:// or https:// URL)`}},
		{"health tcp without port", header + "health: {tcp: \"db:\"}\n", []string{
			`b.bun:3:15: health.tcp: invalid tcp probe "db:" (hint: write a port such as "8080" (on the container's own address) or "HOST:8080")`}},
		{"depends_on", header + "depends_on:\n  t: {condition: ready}\n  db: {timeout: 2}\n  db2: [x]\n", []string{
			`b.bun:4:18: depends_on.t.condition: invalid condition "ready" (hint: the conditions are started, healthy and completed_successfully)`,
			`b.bun:6:8: depends_on.db2: must be a map, not a list`}},
		{"depends on itself", header + "depends_on: [db, t, db]\n", []string{
			`b.bun:3:18: depends_on[1]: container "t" cannot depend on itself`,
			`b.bun:3:21: depends_on[2]: "db" is listed twice (first at line 3)`}},
		{"replicas", header + "replicas: 0\n", []string{`b.bun:3:11: replicas: 0 is out of range (1 to 1000)`}},
		{"replicas strategy", header + "replicas: {count: 2, strategy: random}\n", []string{
			`b.bun:3:32: replicas.strategy: invalid strategy "random" (hint: the strategies are round-robin and least-connections)`}},
		{"labels", header + "labels: [budgie.name=x, novalue, a=1, a=2]\n", []string{
			`b.bun:3:10: labels[0]: label "budgie.name" is reserved (hint: the budgie. prefix is reserved for Budgie's own labels)`,
			`b.bun:3:25: labels[1]: "novalue" has no = (hint: write KEY=VALUE)`,
			`b.bun:3:39: labels[3]: label "a" is set twice`}},
		{"env", header + "env: [A=1, B, A=2, \"C D=1\"]\n", []string{
			`b.bun:3:12: env[1]: "B" has no = (hint: write KEY=VALUE)`,
			`b.bun:3:15: env[2]: A is set twice (first at line 3)`,
			`b.bun:3:20: env[3]: invalid variable name "C D" (hint: a name has no spaces, no = and is not empty)`}},
		{"env_file missing", header + "env_file: [conf/app.env]\n", []string{
			`b.bun:3:12: env_file[0]: env file conf/app.env does not exist (hint: env_file paths are relative to the bundle's directory)`}},
		{"workdir user hostname", header + "workdir: app\nuser: \"a:\"\nhostname: -x\n", []string{
			`b.bun:3:10: workdir: "app" is not an absolute path (hint: write an absolute path such as /app)`,
			`b.bun:4:7: user: invalid user "a:"`,
			`b.bun:5:11: hostname: invalid host name "-x"`}},
		{"command quoting", header + "command: echo 'unterminated\nargs: []\n", []string{
			`b.bun:3:10: command: unterminated single quote (hint: quote and escape as in sh, or write a list)`,
			`b.bun:4:7: args: is empty (hint: leave the field out to use the image's)`}},
		{"image", "name: a\nimage: Busybox\n", []string{
			`b.bun:2:8: image: invalid image reference "Busybox" (hint: write a reference such as "busybox", "busybox:1.36" or "localhost:5000/app:1.2")`}},
		{"networks and secrets", header + "networks: [a, a]\nsecrets: [\"../x\"]\n", []string{
			`b.bun:3:15: networks[1]: "a" is listed twice (first at line 3)`,
			`b.bun:4:11: secrets[0]: invalid name "../x" (hint: use letters, digits, _, . and -, starting with a letter or digit)`}},
		{"stack shape", "name: a\ncontainers: []\n", []string{
			`b.bun:1:1: name: a stack file holds only the containers: list, not container fields (hint: move it into a container of the list)`,
			`b.bun:2:1: containers: is empty (hint: add at least one container)`}},
		{"stack not a list", "containers: {a: 1}\nextra: 1\n", []string{
			`b.bun:1:13: containers: must be a list of containers, not a map`,
			`b.bun:2:1: extra: unknown field "extra" (hint: known fields: containers)`}},
		{"stack duplicates", "containers:\n  - {name: a, image: busybox, ports: [\"80:80\"]}\n  - {name: a, image: busybox, ports: [\"80:81\"]}\n", []string{
			`b.bun:3:6: containers[1].name: duplicate name "a" (first at line 2) (hint: container names are unique on a node)`,
			`b.bun:3:39: containers[1].ports[0]: host port 80/tcp is already published by containers[0].ports[0] (line 2) (hint: each host port can be published once)`}},
		{"stack item paths", "containers:\n  - name: a\n    image: busybox\n    resources: {memory: 1x}\n  - image: busybox\n", []string{
			`b.bun:4:25: containers[0].resources.memory: unknown unit "x" in "1x" (hint: the units are B, KB/KiB/k, MB/MiB/m, GB/GiB/g and TB/TiB/t)`,
			`b.bun:5:5: containers[1].name: is required (hint: every container needs a name: field)`}},
		{"stack item not a map", "containers:\n  - web\n", []string{`b.bun:2:5: containers[0]: must be a map, not the string "web"`}},
		{"merge chain too deep", mergeChain(10) + "<<: *m9\n" + header, []string{`b.bun:3:15: merge (<<) nests too deep`}},
		{"merge of a scalar", "x-a: &a 3\n<<: *a\n" + header, []string{`b.bun:2:5: merge (<<) needs a map, not a number`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("b.bun", []byte(tt.src), ParseOptions{Dir: t.TempDir()})
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("error does not match ErrInvalid: %v", err)
			}
			var berr *Error
			if !errors.As(err, &berr) {
				t.Fatalf("error is %T, want *Error", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(berr.Problems) {
				t.Errorf("%d lines for %d problems", len(lines), len(berr.Problems))
			}
			for _, w := range tt.want {
				if !containsLine(lines, w) {
					t.Errorf("missing problem\n  %s\nin\n  %s", w, strings.Join(lines, "\n  "))
				}
			}
			if len(lines) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n  %s", len(lines), len(tt.want), strings.Join(lines, "\n  "))
			}
		})
	}
}

// containsLine reports whether want is one of lines, or a prefix of one
// when want has no hint (so that hints need not be repeated everywhere).
func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want || (!strings.Contains(want, "(hint: ") && strings.HasPrefix(l, want+" (hint: ")) {
			return true
		}
	}
	return false
}

func TestErrorCollectsEverything(t *testing.T) {
	src := "name: -x\nzzz: busybox\nresources:\n  memory: 5 potatoes\nports: [\"99999\"]\nvolumes: [d:rel]\n"
	_, err := Parse("all.bun", []byte(src), ParseOptions{})
	var berr *Error
	if !errors.As(err, &berr) {
		t.Fatalf("error %v, want *Error", err)
	}
	var fields []string
	for _, p := range berr.Problems {
		fields = append(fields, p.Field)
	}
	want := "image name zzz resources.memory ports[0] volumes[0]"
	if got := strings.Join(fields, " "); got != want {
		t.Errorf("problem fields %q, want %q (all problems, in file order)", got, want)
	}
	p := berr.Problems[3]
	if p.File != "all.bun" || p.Line != 4 || p.Column != 11 {
		t.Errorf("memory problem at %s:%d:%d, want all.bun:4:11", p.File, p.Line, p.Column)
	}
}

func TestEnvFileProblemsInBundle(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.env"), []byte("A=1\nnot a pair\n=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Parse("sub/b.bun", []byte(header+"env_file: bad.env\nuser: [x]\n"), ParseOptions{Dir: dir})
	want := "sub/b.bun:4:7: user: must be a string, not a list\n" +
		`sub/bad.env:2:1: "not a pair" has no = (hint: write KEY=VALUE)` + "\n" +
		`sub/bad.env:3:1: invalid variable name ""`
	if err == nil || err.Error() != want {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.bun", Line: 3, Column: 5, Field: "x.y", Message: "bad", Hint: "fix it"}, "a.bun:3:5: x.y: bad (hint: fix it)"},
		{Problem{File: "a.bun", Line: 3, Message: "bad"}, "a.bun:3: bad"},
		{Problem{File: "a.bun", Message: "bad"}, "a.bun: bad"},
		{Problem{File: "a.bun", Line: 1, Column: 1, Field: "f", Message: "bad"}, "a.bun:1:1: f: bad"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		unknown   string
		known     []string
		container bool
		want      string
	}{
		{"imgae", containerFields, true, "did you mean image?"},
		{"Image", containerFields, true, "did you mean image?"},
		{"volume", containerFields, true, "did you mean volumes?"},
		{"dependson", containerFields, true, "did you mean depends_on?"},
		{"enviroment", containerFields, true, "use env"},
		{"healthcheck", containerFields, true, "use health"},
		{"open_stdin", containerFields, true, "use stdin_open"},
		{"ttty", containerFields, true, "did you mean tty?"},
		{"xyz", containerFields, true, "the fields are listed in docs/bundle.md"},
		{"memroy", resourceFields, false, "did you mean memory?"},
		{"cpu", resourceFields, false, "did you mean cpus?"},
		{"environment", resourceFields, false, "known fields: " + strings.Join(resourceFields, ", ")},
	}
	for _, tt := range tests {
		if got := suggest(tt.unknown, tt.known, tt.container); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.unknown, got, tt.want)
		}
	}
}

func TestMergeBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x-0: &m0 {a: 1}\n")
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&b, "x-%d: &m%d {<<: [", i, i)
		for j := 0; j < 12; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*m%d", i-1)
		}
		b.WriteString("]}\n")
	}
	b.WriteString("<<: *m7\n" + header)
	done := make(chan error, 1)
	go func() {
		_, err := Parse("bomb.bun", []byte(b.String()), ParseOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "too large or merges (<<) too much") {
			t.Errorf("error %v, want the merge limit", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Parse did not bound merges of merges")
	}
}

// mergeChain writes n maps x-0 … x-(n-1), each merging the one before.
func mergeChain(n int) string {
	var b strings.Builder
	b.WriteString("x-0: &m0 {user: a}\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "x-%d: &m%d {<<: *m%d}\n", i, i, i-1)
	}
	return b.String()
}
