package kube

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/models"
)

// bundles are the specs the generate tests start from, as bundle text
// (what a container's labels hold was parsed from such text).
var bundles = map[string]string{
	"minimal": "name: web\nimage: busybox\n",
	"full": `name: web
image: localhost/budgie-demo:latest
command: [sh, -c, 'echo "$HOME $(x) $$"; exec httpd -f -p 8080']
args: ["a $(B) b", "$$$$"]
workdir: /srv
user: "1000:1000"
hostname: webhost
env: {A: "1", B: "x=$(A)", PATH_LIKE: "$$(y)", EMPTY: ""}
ports: ["8080:8080/http", "8081:8080/http", "127.0.0.1:9090:90", "53/udp", "127.0.0.1::7000"]
volumes: [data:/data, "data:/ro:ro", /tmp:/host-tmp:ro]
resources: {memory: 64MiB, cpus: 0.5, cpu_shares: 512, pids_limit: 64, memory_swap: 128MiB, blkio_weight: 500}
restart_policy: on-failure:3
stop_timeout: 1500ms
stop_signal: SIGINT
tty: true
stdin_open: true
health: {http: ":8080/healthz", interval: 1s, timeout: 2s, retries: 5, start_period: 500ms, on_unhealthy: restart}
networks: [backend]
secrets: [db_password, api-key]
labels: {app: web, "weird key": "x y", tier: ""}
`,
	"stack": `containers:
  - name: api
    image: busybox
    replicas: {count: 3, strategy: least-connections}
    volumes: [shared:/s]
    health: {cmd: "test -f /ok"}
    restart_policy: unless-stopped
  - name: Worker_1
    image: busybox
    volumes: ["shared:/s", "Big_Data:/big"]
    depends_on: {api: {condition: healthy, timeout: 30s}, one: {}}
    user: nobody
    hostname: worker.example
    health: {tcp: "127.0.0.1:5432", interval: 45s}
  - name: one
    image: busybox
    replicas: 1
    restart_policy: always
    networks: [host]
    health: {http: "https://localhost:8443/ready?x=1"}
  - name: "9lives"
    image: busybox
    resources: {cpu_quota: 33333, cpu_period: 50000, cpu_shares: 4096}
    stop_signal: SIGTERM
    replicas: {count: 1, strategy: least-connections}
`,
}

// parseBundle parses one of the test bundles.
func parseBundle(t *testing.T, name string) []models.ContainerSpec {
	t.Helper()
	b, err := bundle.Parse(name+".bun", []byte(bundles[name]), bundle.ParseOptions{Dir: "/"})
	if err != nil {
		t.Fatalf("bundle %s: %v", name, err)
	}
	return b.Containers
}

// strictDecode decodes every document of a generated manifest strictly
// into its k8s.io/api type: an unknown field is an error.
func strictDecode(t *testing.T, yaml []byte) []any {
	t.Helper()
	var out []any
	for _, doc := range splitDocuments(yaml) {
		var head struct{ APIVersion, Kind string }
		if err := sigsyaml.Unmarshal(doc.text, &head); err != nil {
			t.Fatalf("document %d: %v", doc.index, err)
		}
		var obj any
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			obj = &appsv1.Deployment{}
		case "apps/v1 StatefulSet":
			obj = &appsv1.StatefulSet{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "v1 PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		default:
			t.Fatalf("document %d: unexpected %s %s", doc.index, head.APIVersion, head.Kind)
		}
		if err := sigsyaml.UnmarshalStrict(doc.text, obj); err != nil {
			t.Fatalf("document %d (%s) does not decode strictly: %v\n%s", doc.index, head.Kind, err, doc.text)
		}
		out = append(out, obj)
	}
	return out
}

// TestRoundTrip: generate of a bundle's specs, then play of the manifest,
// gives the very same specs (compared as the JSON the container labels
// hold), and every generated document decodes strictly.
func TestRoundTrip(t *testing.T) {
	for name := range bundles {
		t.Run(name, func(t *testing.T) {
			specs := parseBundle(t, name)
			m, err := Generate(specs)
			if err != nil {
				t.Fatal(err)
			}
			strictDecode(t, m.YAML)
			plan, err := Play("gen.yaml", m.YAML)
			if err != nil {
				t.Fatalf("play of the generated manifest: %v\n%s", err, m.YAML)
			}
			if len(plan.Specs) != len(specs) {
				t.Fatalf("play made %d containers, want %d", len(plan.Specs), len(specs))
			}
			for i := range specs {
				want, _ := json.Marshal(specs[i])
				got, _ := json.Marshal(plan.Specs[i])
				if string(got) != string(want) {
					t.Errorf("container %d after the round trip:\n got %s\nwant %s\nmanifest:\n%s\nbundle:\n%s", i, got, want, m.YAML, plan.Bundle)
				}
			}
			// Once more: the bundle play wrote generates the same manifest.
			again, err := Generate(plan.Specs)
			if err != nil {
				t.Fatal(err)
			}
			if string(again.YAML) != string(m.YAML) {
				t.Errorf("generate of the played specs differs:\n%s\nfirst:\n%s", again.YAML, m.YAML)
			}
		})
	}
}

// TestGenerateMapping checks what each bundle field becomes.
func TestGenerateMapping(t *testing.T) {
	m, err := Generate(parseBundle(t, "full"))
	if err != nil {
		t.Fatal(err)
	}
	objs := strictDecode(t, m.YAML)
	ss, ok := objs[0].(*appsv1.StatefulSet)
	if !ok {
		t.Fatalf("a container with named volumes gives a StatefulSet first, got %T", objs[0])
	}
	if len(ss.Spec.VolumeClaimTemplates) != 1 || ss.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Errorf("volumeClaimTemplates = %+v, want one for data", ss.Spec.VolumeClaimTemplates)
	}
	pod := ss.Spec.Template.Spec
	c := pod.Containers[0]
	checks := []struct {
		what string
		ok   bool
	}{
		{"replicas 1", *ss.Spec.Replicas == 1},
		{"env escaped against $(VAR) expansion", envValue(c.Env, "B") == "x=$$(A)" && envValue(c.Env, "PATH_LIKE") == "$$$$(y)"},
		{"command keeps $HOME, escapes $(x)", strings.Contains(c.Command[2], "$HOME $$(x) $$")},
		{"memory limit", c.Resources.Limits.Memory().String() == "64Mi"},
		{"cpu limit", c.Resources.Limits.Cpu().String() == "500m"},
		{"cpu request from cpu_shares", c.Resources.Requests.Cpu().String() == "500m"},
		{"readiness http probe", c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path == "/healthz" && c.ReadinessProbe.HTTPGet.Port.IntVal == 8080},
		{"liveness for on_unhealthy: restart", c.LivenessProbe != nil && c.LivenessProbe.PeriodSeconds == 1 && c.LivenessProbe.FailureThreshold == 5},
		{"start_period rounded up", c.ReadinessProbe.InitialDelaySeconds == 1},
		{"grace period rounded up", *pod.TerminationGracePeriodSeconds == 2},
		{"user", *c.SecurityContext.RunAsUser == 1000 && *c.SecurityContext.RunAsGroup == 1000},
		{"hostname", pod.Hostname == "webhost"},
		{"no service links", pod.EnableServiceLinks != nil && !*pod.EnableServiceLinks},
		{"tty and stdin", c.TTY && c.Stdin},
		{"valid labels only", ss.Spec.Template.Labels["app"] == "web" && ss.Spec.Template.Labels["weird key"] == ""},
		{"selector", ss.Spec.Selector.MatchLabels[LabelService] == "web" && ss.Spec.Template.Labels[LabelService] == "web"},
		{"extras", strings.Contains(ss.Annotations[AnnotationBundle], "restart_policy: on-failure:3") &&
			strings.Contains(ss.Annotations[AnnotationBundle], "stop_signal: SIGINT") &&
			strings.Contains(ss.Annotations[AnnotationBundle], "weird key")},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s: not as expected\n%s", ch.what, m.YAML)
		}
	}
	var secret, host int
	for _, v := range pod.Volumes {
		switch {
		case v.Secret != nil:
			secret++
		case v.HostPath != nil && v.HostPath.Path == "/tmp":
			host++
		}
	}
	if secret != 2 || host != 1 {
		t.Errorf("volumes: %d secrets, %d hostPath; want 2 and 1", secret, host)
	}
	for _, mnt := range c.VolumeMounts {
		if strings.HasPrefix(mnt.Name, "secret-") && (mnt.MountPath != "/run/secrets/db_password" && mnt.MountPath != "/run/secrets/api-key" || mnt.SubPath == "") {
			t.Errorf("secret mount %+v, want /run/secrets/NAME with a subPath", mnt)
		}
	}
	// Services: one per set of published ports.
	var svcs []*corev1.Service
	for _, o := range objs {
		if s, ok := o.(*corev1.Service); ok {
			svcs = append(svcs, s)
		}
	}
	if len(svcs) != 4 {
		t.Fatalf("%d Services, want 4 (fixed ports, fixed on 127.0.0.1, random, random on 127.0.0.1):\n%s", len(svcs), m.YAML)
	}
	lb := svcs[0]
	if lb.Spec.Type != corev1.ServiceTypeLoadBalancer || len(lb.Spec.Ports) != 2 || lb.Spec.Ports[0].Port != 8080 ||
		lb.Spec.Ports[0].AppProtocol == nil || *lb.Spec.Ports[0].AppProtocol != "http" || lb.Spec.Ports[1].Port != 8081 {
		t.Errorf("first Service = %+v", lb.Spec)
	}
	if svcs[1].Annotations[AnnotationHostIP] != "127.0.0.1" || svcs[1].Spec.Ports[0].Port != 9090 || svcs[1].Spec.Ports[0].TargetPort.IntVal != 90 {
		t.Errorf("second Service = %+v %+v", svcs[1].Annotations, svcs[1].Spec)
	}
	if svcs[2].Spec.Type != corev1.ServiceTypeNodePort || svcs[2].Spec.Ports[0].Protocol != corev1.ProtocolUDP || svcs[2].Spec.Ports[0].NodePort != 0 {
		t.Errorf("third Service = %+v", svcs[2].Spec)
	}
	if strings.Contains(string(m.YAML), "kind: Secret\n") {
		t.Errorf("generate wrote a Secret object:\n%s", m.YAML)
	}
	if !strings.Contains(string(m.YAML), "# NOTE: mounts the host path /tmp") || len(m.Warnings) == 0 {
		t.Errorf("no note about the hostPath mount:\n%s", m.YAML)
	}
}

// TestGenerateShared: a volume several containers (or replicas) mount is
// one PersistentVolumeClaim they all refer to; names Kubernetes refuses
// are made safe and kept in budgie.sh/name.
func TestGenerateShared(t *testing.T) {
	m, err := Generate(parseBundle(t, "stack"))
	if err != nil {
		t.Fatal(err)
	}
	objs := strictDecode(t, m.YAML)
	pvc, ok := objs[0].(*corev1.PersistentVolumeClaim)
	if !ok || pvc.Name != "shared" {
		t.Fatalf("first object = %T %v, want the shared claim", objs[0], objs[0])
	}
	var worker *appsv1.StatefulSet
	var replicated *appsv1.StatefulSet
	for _, o := range objs {
		if ss, ok := o.(*appsv1.StatefulSet); ok {
			switch ss.Name {
			case "worker-1":
				worker = ss
			case "api":
				replicated = ss
			}
		}
	}
	if worker == nil || worker.Annotations[AnnotationName] != "Worker_1" {
		t.Fatalf("Worker_1's StatefulSet: %+v", worker)
	}
	if len(worker.Spec.VolumeClaimTemplates) != 1 || worker.Spec.VolumeClaimTemplates[0].Name != "big-data" ||
		worker.Spec.VolumeClaimTemplates[0].Annotations[AnnotationName] != "Big_Data" {
		t.Errorf("Worker_1's templates: %+v", worker.Spec.VolumeClaimTemplates)
	}
	if replicated == nil || *replicated.Spec.Replicas != 3 || len(replicated.Spec.VolumeClaimTemplates) != 0 ||
		replicated.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "shared" {
		t.Errorf("api's StatefulSet: %+v", replicated)
	}
	if !strings.Contains(string(m.YAML), "name: b-9lives") {
		t.Errorf("a name starting with a digit is not made a valid Service/RFC 1035 name:\n%s", m.YAML)
	}
}

func envValue(env []corev1.EnvVar, name string) string {
	for _, e := range env {
		if e.Name == name {
			return e.Value
		}
	}
	return "<unset>"
}

// TestEscapeExpand: what escape writes, Kubernetes' expansion gives back.
func TestEscapeExpand(t *testing.T) {
	for _, s := range []string{"", "$", "$$", "$$$", "$(A)", "$$(A)", "a$", "$(", "$(A", "x=$(A)$(B)", "$HOME", "$$$(A)$", "(a)$b$(c)d$$e"} {
		got, err := expand(escape(s), func(string) (string, bool) { return "EXPANDED", true })
		if err != nil || got != s {
			t.Errorf("expand(escape(%q)) = %q, %v", s, got, err)
		}
	}
	vars := map[string]string{"A": "1", "B": "two"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	for in, want := range map[string]string{
		"$(A)-$(B)": "1-two", "$$(A)": "$(A)", "$(C)": "$(C)", "$(A": "$(A", "$A": "$A", "a$$b": "a$b", "$": "$",
	} {
		if got, _ := expand(in, lookup); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}
