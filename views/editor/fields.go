package editor

import "github.com/budgie-sh/budgie/engine/bundle"

// field is one input of the form. Its id is the dotted path of the bundle
// field it edits ("resources.memory").
type field struct {
	id, title, help string
	// suggest are completions offered by one-line inputs.
	suggest []string
}

// kind is how the field's YAML is edited as text: the bundle schema's
// (bundle.KindOf).
func (f field) kind() bundle.FieldKind { return bundle.KindOf(f.id) }

// page is one group of the form.
type page struct {
	title  string
	fields []field
}

// pages are the form's groups: every field of a container in a bundle, in
// the order docs/bundle.md describes them.
var pages = []page{
	{"Container", []field{
		{id: "name", title: "Name", help: "unique on the node: letters, digits, _ . -"},
		{id: "image", title: "Image", help: `e.g. busybox, busybox:1.36, localhost:5000/app:1.2`},
		{id: "command", title: "Command", help: "replaces the entrypoint; one line is split like a shell, or one argument per line"},
		{id: "args", title: "Args", help: "replaces the image's cmd; one line is split like a shell, or one argument per line"},
		{id: "workdir", title: "Workdir", help: "absolute path; empty: the image's"},
		{id: "user", title: "User", help: "uid[:gid] or a user name from the image"},
		{id: "hostname", title: "Hostname", help: "empty: the container name"},
	}},
	{"Environment", []field{
		{id: "env", title: "Env", help: "KEY=VALUE, one per line; wins over env_file"},
		{id: "env_file", title: "Env files", help: "paths relative to the bundle, one per line; later files win"},
		{id: "labels", title: "Labels", help: "KEY=VALUE, one per line"},
		{id: "secrets", title: "Secrets", help: "secret names, one per line; mounted at /run/secrets/NAME"},
	}},
	{"Ports, volumes, networks", []field{
		{id: "ports", title: "Ports", help: "[IP:][HOST:]CONTAINER[/tcp|/http|/udp], one per line"},
		{id: "volumes", title: "Volumes", help: "SOURCE:TARGET[:ro], one per line; a path source is a bind mount"},
		{id: "networks", title: "Networks", help: "network names, one per line; empty: the default network"},
	}},
	{"Resources", []field{
		{id: "resources.cpus", title: "CPUs", help: "number of CPUs, e.g. 0.5 or 2 (or cpu_quota and cpu_period)"},
		{id: "resources.cpu_shares", title: "CPU shares", help: "relative weight, 2–262144"},
		{id: "resources.cpu_quota", title: "CPU quota", help: "CFS quota in µs per period"},
		{id: "resources.cpu_period", title: "CPU period", help: "CFS period in µs, 1000–1000000"},
		{id: "resources.memory", title: "Memory", help: "limit, e.g. 64MiB, 1.5GiB, 512m, or bytes"},
		{id: "resources.memory_swap", title: "Memory + swap", help: "at least memory, or -1 for unlimited swap"},
		{id: "resources.blkio_weight", title: "Block I/O weight", help: "10–1000"},
		{id: "resources.pids_limit", title: "PIDs limit", help: "maximum number of processes"},
	}},
	{"Lifecycle", []field{
		{id: "restart_policy", title: "Restart policy", help: "no, always, unless-stopped, on-failure or on-failure:3",
			suggest: []string{"no", "always", "unless-stopped", "on-failure"}},
		{id: "stop_timeout", title: "Stop timeout", help: "e.g. 10s, 1m30s, or whole seconds"},
		{id: "stop_signal", title: "Stop signal", help: "e.g. SIGTERM, SIGINT, 15", suggest: []string{"SIGTERM", "SIGINT", "SIGQUIT", "SIGKILL", "SIGHUP"}},
		{id: "tty", title: "Terminal (tty)", help: "true gives the process a terminal (docker run -t)", suggest: []string{"true", "false"}},
		{id: "stdin_open", title: "Stdin open", help: "true: budgie run --attach feeds it stdin (docker run -i)", suggest: []string{"true", "false"}},
		{id: "depends_on", title: "Depends on", help: "name [started|healthy|completed_successfully [timeout]], one per line"},
		{id: "replicas.count", title: "Replicas", help: "number of copies behind a load balancer, 1–1000"},
		{id: "replicas.strategy", title: "Replica strategy", help: "round-robin (default) or least-connections",
			suggest: []string{"round-robin", "least-connections"}},
	}},
	{"Health", []field{
		{id: "health.cmd", title: "Command probe", help: "one line is run by sh -c; or one argument per line"},
		{id: "health.http", title: "HTTP probe", help: ":PORT/path (the container's own address, e.g. :8080/healthz) or a full http(s) URL"},
		{id: "health.tcp", title: "TCP probe", help: "PORT (the container's own address) or HOST:PORT"},
		{id: "health.interval", title: "Interval", help: "between probes; default 30s"},
		{id: "health.timeout", title: "Timeout", help: "of one probe; default 30s"},
		{id: "health.retries", title: "Retries", help: "failures in a row that make it unhealthy; default 3"},
		{id: "health.start_period", title: "Start period", help: "grace time after start"},
		{id: "health.on_unhealthy", title: "On unhealthy", help: "empty (nothing) or restart", suggest: []string{"restart"}},
	}},
}

// allFields lists the fields of every page, in form order.
func allFields() []field {
	var out []field
	for _, p := range pages {
		out = append(out, p.fields...)
	}
	return out
}

// values reads every form field from the document's container.
func values(d *bundle.Document) map[string]string {
	out := map[string]string{}
	for _, f := range allFields() {
		out[f.id] = d.Read(f.id)
	}
	return out
}

// apply writes the fields whose value differs from before into the
// document; fields left alone keep their nodes, comments and style.
func apply(d *bundle.Document, before, after map[string]string) {
	for _, f := range allFields() {
		if bundle.NormalizeField(f.kind(), before[f.id]) != bundle.NormalizeField(f.kind(), after[f.id]) {
			d.Write(f.id, after[f.id])
		}
	}
}
