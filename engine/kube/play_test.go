package kube

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// deployment is a minimal Deployment whose pod spec lines are extra,
// indented under the container (6 spaces) or the pod spec (4 spaces).
func deployment(name, podExtra, containerExtra string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ` + name + `
spec:
  selector:
    matchLabels: {app: ` + name + `}
  template:
    metadata:
      labels: {app: ` + name + `}
    spec:
` + podExtra + `      containers:
      - name: c
        image: busybox
` + containerExtra
}

// TestPlayRefusals: what Budgie cannot honour is refused by kind and
// field, with the file, line and document, and a hint; nothing else.
func TestPlayRefusals(t *testing.T) {
	cases := []struct {
		name, manifest string
		want           []string // substrings of the error, each on some problem
	}{
		{"unsupported kind", deployment("web", "", "") + "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\n",
			[]string{"m.yaml:17: document 2 (Ingress x): kind: kind Ingress is not supported by budgie kube play (hint: publish the port"}},
		{"secret kind", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\n",
			[]string{"m.yaml:2: document 1 (Secret s): kind: kind Secret is not supported", "budgie secret create NAME"}},
		{"unknown kind", "apiVersion: v1\nkind: Gizmo\nmetadata: {name: g}\n", []string{"kind Gizmo is not supported", "kube play takes Pod, Deployment"}},
		{"wrong apiVersion", "apiVersion: v1\nkind: Deployment\nmetadata: {name: g}\n", []string{`m.yaml:1: document 1 (Deployment g): apiVersion: Deployment is not served as "v1" (hint: write apiVersion: apps/v1)`}},
		{"typo is an unknown field", deployment("web", "", "        imagePullPolicy: IfNotPresent\n        workinDir: /x\n"),
			[]string{`m.yaml:16: document 1 (Deployment web): spec.template.spec.containers[0].workinDir: unknown field "workinDir"`}},
		{"unsupported field", deployment("web", "      nodeSelector: {disk: ssd}\n", ""),
			[]string{"m.yaml:12: document 1 (Deployment web): spec.template.spec.nodeSelector: not supported by budgie kube play (hint: Budgie runs on this node only"}},
		{"init containers", deployment("web", "      initContainers: [{name: i, image: busybox}]\n", ""),
			[]string{"spec.template.spec.initContainers: not supported", "run the init step"}},
		{"emptyDir", deployment("web", "      volumes: [{name: tmp, emptyDir: {}}]\n", "        volumeMounts: [{name: tmp, mountPath: /tmp}]\n"),
			[]string{"spec.template.spec.volumes[0].emptyDir: not supported", "use a PersistentVolumeClaim"}},
		{"two containers", deployment("web", "", "      - name: d\n        image: busybox\n") + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: LoadBalancer\n  selector: {app: web}\n  ports: [{port: 80}]\n",
			[]string{"spec.template.spec.containers: a pod of 2 containers", "one Deployment per container"}},
		{"secret as env", deployment("web", "", "        env: [{name: P, valueFrom: {secretKeyRef: {name: s, key: k}}}]\n"),
			[]string{"spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef: not supported", "never as env"}},
		{"namespace", strings.Replace(deployment("web", "", ""), "  name: web\n", "  name: web\n  namespace: prod\n", 1),
			[]string{"metadata.namespace: namespace prod is not supported"}},
		{"pull always", deployment("web", "", "        imagePullPolicy: Always\n"), []string{"imagePullPolicy Always is not supported", "budgie pull IMAGE"}},
		{"restart never in a deployment", deployment("web", "      restartPolicy: Never\n", ""), []string{"restartPolicy Never is not allowed in a Deployment"}},
		{"replicas 0", strings.Replace(deployment("web", "", ""), "spec:\n  selector", "spec:\n  replicas: 0\n  selector", 1),
			[]string{"m.yaml:6: document 1 (Deployment web): spec.replicas: replicas: 0 runs no container"}},
		{"selector mismatch", strings.Replace(deployment("web", "", ""), "matchLabels: {app: web}", "matchLabels: {app: other}", 1),
			[]string{"selects app=other, which the pod template does not carry"}},
		{"probes differ", deployment("web", "", "        readinessProbe: {tcpSocket: {port: 80}}\n        livenessProbe: {tcpSocket: {port: 81}}\n"),
			[]string{"the liveness probe differs from the readiness probe"}},
		{"startup probe", deployment("web", "", "        startupProbe: {tcpSocket: {port: 80}}\n"), []string{"startupProbe: not supported", "one health check"}},
		{"hostPath socket", deployment("web", "      volumes: [{name: s, hostPath: {path: /run/x.sock, type: Socket}}]\n", "        volumeMounts: [{name: s, mountPath: /s}]\n"),
			[]string{"spec.template.spec.volumes[0].hostPath.type: hostPath type Socket is not supported"}},
		{"secret at another path", deployment("web", "      volumes: [{name: s, secret: {secretName: s}}]\n", "        volumeMounts: [{name: s, mountPath: /etc/s, subPath: k}]\n"),
			[]string{"volumeMounts[0].mountPath: a secret volume at /etc/s is not supported", "/run/secrets/NAME"}},
		{"secret directory", deployment("web", "      volumes: [{name: s, secret: {secretName: s}}]\n", "        volumeMounts: [{name: s, mountPath: /run/secrets/s}]\n"),
			[]string{"a secret volume without subPath is a directory of keys"}},
		{"service selects nothing", deployment("web", "", "") + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: LoadBalancer\n  selector: {app: nope}\n  ports: [{port: 80}]\n",
			[]string{"m.yaml:21: document 2 (Service web): spec.selector: selects no Pod, Deployment or StatefulSet"}},
		{"cluster IP renamed", deployment("web", "", "") + "---\napiVersion: v1\nkind: Service\nmetadata: {name: frontend}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n",
			[]string{"a ClusterIP Service named other than the container it selects is not supported", "name the Service web"}},
		{"cluster IP port mapping", deployment("web", "", "") + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n",
			[]string{"a ClusterIP port other than its target port is not supported"}},
		{"external name", deployment("web", "", "") + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: ExternalName\n  selector: {app: web}\n",
			[]string{"spec.type: Service type ExternalName is not supported"}},
		{"configmap missing", deployment("web", "", "        envFrom: [{configMapRef: {name: cfg}}]\n"),
			[]string{"envFrom[0].configMapRef.name: ConfigMap cfg is not in the manifest"}},
		{"configmap key missing", deployment("web", "", "        env: [{name: A, valueFrom: {configMapKeyRef: {name: cfg, key: nope}}}]\n") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n",
			[]string{"ConfigMap cfg has no key \"nope\""}},
		{"exported object", strings.Replace(deployment("web", "", ""), "  name: web\n", "  name: web\n  uid: \"1234\"\n  resourceVersion: \"5\"\n", 1) + "status:\n  replicas: 1\n",
			[]string{"metadata.uid: not supported", "metadata.resourceVersion: not supported", "status: not supported", "remove what a cluster adds"}},
		{"bad type", strings.Replace(deployment("web", "", ""), "spec:\n  selector", "spec:\n  replicas: three\n  selector", 1),
			[]string{"m.yaml:1: document 1 (Deployment web): does not decode as a Kubernetes Deployment"}},
		{"yaml syntax", "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n\tbad: 1\n", []string{"document 2: invalid YAML: found a tab character"}}, // yaml.v3 names line 7 or 8
		{"unknown budgie annotation", strings.Replace(deployment("web", "", ""), "  name: web\n", "  name: web\n  annotations: {budgie.sh/nmae: x}\n", 1),
			[]string{`unknown Budgie annotation "budgie.sh/nmae"`}},
		{"extras set a kubernetes field", strings.Replace(deployment("web", "", ""), "  name: web\n", "  name: web\n  annotations: {budgie.sh/bundle: \"image: evil\"}\n", 1),
			[]string{`annotation budgie.sh/bundle: field "image" cannot be set here`}},
		{"empty", "# nothing\n---\n", []string{"m.yaml:1: the manifest is empty"}},
		{"no container", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n", []string{"the manifest runs no container"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Play("m.yaml", []byte(c.manifest))
			var ke *Error
			if !errors.As(err, &ke) || !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("Play = %v, want a *kube.Error", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "selects no") && !strings.Contains(strings.Join(c.want, " "), "selects no") {
				t.Errorf("a Service of a refused workload is reported as selecting nothing:\n%v", err)
			}
		})
	}
}

// TestPlayHostile: names are checked against Budgie's allow-lists before
// they become container, volume or secret names; sizes and counts are
// bounded.
func TestPlayHostile(t *testing.T) {
	big := strings.Repeat("a", 200)
	var bomb strings.Builder
	bomb.WriteString(deployment("web", "", "        env:\n        - {name: V0, value: \""+strings.Repeat("x", 1000)+"\"}\n"))
	for i := 1; i < 20; i++ {
		fmt.Fprintf(&bomb, "        - {name: V%d, value: \"$(V%d)$(V%d)\"}\n", i, i-1, i-1)
	}
	var docs strings.Builder
	for i := 0; i <= maxDocuments; i++ {
		docs.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
	}
	cases := []struct{ name, manifest, want string }{
		{"path as container name", strings.Replace(deployment("web", "", ""), "  name: web\n", "  name: web\n  annotations: {budgie.sh/name: ../../etc}\n", 1),
			`invalid container name "../../etc"`},
		{"long container name", deployment(big, "", ""), "invalid container name"},
		{"path as volume name", deployment("web", "      volumes: [{name: v, persistentVolumeClaim: {claimName: ../x}}]\n", "        volumeMounts: [{name: v, mountPath: /v}]\n"),
			`invalid volume name "../x"`},
		{"path as claim name", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: x, annotations: {budgie.sh/name: a/b}}\n" + "---\n" + deployment("web", "", ""),
			`invalid volume name "a/b"`},
		{"path as secret name", deployment("web", "      volumes: [{name: s, secret: {secretName: s}}]\n", "        volumeMounts: [{name: s, mountPath: /run/secrets/x/../../../etc/passwd, subPath: k}]\n"),
			"a secret volume at /run/secrets/x/../../../etc/passwd is not supported"},
		{"relative host path", deployment("web", "      volumes: [{name: h, hostPath: {path: etc}}]\n", "        volumeMounts: [{name: h, mountPath: /h}]\n"),
			`host path "etc" is not absolute`},
		{"env name", deployment("web", "", "        env: [{name: \"A=B\", value: x}]\n"), `invalid variable name "A=B"`},
		{"memory", deployment("web", "", "        resources: {limits: {memory: 2Pi}}\n"), "2Pi is out of range"},
		{"cpu", deployment("web", "", "        resources: {limits: {cpu: 1m}}\n"), "1m is out of range (10m to 100k)"},
		{"port", deployment("web", "", "        ports: [{containerPort: 70000, hostPort: 80}]\n"), "port 70000 is out of range"},
		{"grace", deployment("web", "      terminationGracePeriodSeconds: 99999999\n", ""), "99999999 is out of range"},
		{"replicas bound", strings.Replace(deployment("web", "", ""), "spec:\n  selector", "spec:\n  replicas: 100000\n  selector", 1),
			"m.yaml:6: document 1 (Deployment web): spec.replicas:"},
		{"expansion bomb", bomb.String(), "expands to more than 256 KiB"},
		{"documents", docs.String(), fmt.Sprintf("more than %d documents", maxDocuments)},
		{"alias bomb", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: &a [x,x,x,x,x,x,x,x,x]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n  g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
			"document 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Play("m.yaml", []byte(c.manifest))
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("Play = %v, want an invalid error with %q", err, c.want)
			}
		})
	}
	huge := make([]byte, maxManifest+1)
	if _, err := Play("m.yaml", huge); err == nil || !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("Play of a manifest over 4 MiB = %v", err)
	}
}

// TestPlayMapping: a hand-written manifest's fields, in the bundle.
func TestPlayMapping(t *testing.T) {
	manifest := `# an app as one might write it for k3s
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {MODE: prod, LEVEL: "3"}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: db-data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 5Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: front}}
    spec:
      terminationGracePeriodSeconds: 5
      volumes:
      - {name: data, persistentVolumeClaim: {claimName: db-data}}
      - {name: site, hostPath: {path: /srv/site, type: Directory}}
      - {name: pw, secret: {secretName: db-creds}}
      containers:
      - name: web
        image: nginx:1.27
        args: ["--level=$(LEVEL)", "$$(literal)"]
        ports: [{name: http, containerPort: 80}]
        envFrom: [{configMapRef: {name: cfg}, prefix: APP_}]
        env:
        - {name: LEVEL, valueFrom: {configMapKeyRef: {name: cfg, key: LEVEL}}}
        - {name: URL, value: "http://db/$(APP_MODE)"}
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: site, mountPath: /usr/share/nginx/html, readOnly: true}
        - {name: pw, mountPath: /run/secrets/db-password, subPath: password}
        resources:
          limits: {memory: 128Mi, cpu: 250m}
          requests: {cpu: 100m, memory: 64Mi}
        readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 5}
        livenessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 5}
        securityContext: {runAsUser: 101}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 8080, targetPort: http, appProtocol: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-admin, annotations: {budgie.sh/host-ip: 127.0.0.1}}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 81, targetPort: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: job, labels: {app: job}}
spec:
  restartPolicy: Never
  hostNetwork: true
  containers:
  - name: job
    image: busybox
    command: [sh, -c, "echo $HOME"]
---
apiVersion: v1
kind: Service
metadata: {name: job}
spec:
  selector: {app: job}
  ports: [{port: 9000}]
`
	plan, err := Play("app.yaml", []byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Specs) != 2 {
		t.Fatalf("%d containers, want 2", len(plan.Specs))
	}
	web, job := plan.Specs[0], plan.Specs[1]
	want := models.ContainerSpec{
		Name: "web", Image: "docker.io/library/nginx:1.27", Args: []string{"--level=3", "$(literal)"},
		Env: []string{"APP_LEVEL=3", "APP_MODE=prod", "LEVEL=3", "URL=http://db/prod"},
		Ports: []models.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "http"},
			{HostIP: "127.0.0.1", ContainerPort: 80, Protocol: "tcp"}},
		Volumes: []models.VolumeMount{{Kind: models.VolumeNamed, Source: "db-data", Target: "/data"},
			{Kind: models.VolumeBind, Source: "/srv/site", Target: "/usr/share/nginx/html", ReadOnly: true}},
		Resources:     models.Resources{Memory: 128 << 20, CPUQuota: 25000, CPUPeriod: 100000, CPUShares: 102},
		RestartPolicy: models.RestartPolicy{Name: models.RestartAlways},
		StopTimeout:   5e9,
		Health:        &models.HealthCheck{HTTP: ":80/healthz", Interval: 5e9, Timeout: 1e9, OnUnhealthy: "restart"},
		User:          "101",
		Replicas:      &models.Replicas{Count: 2},
		Secrets:       []string{"db-password"},
		Labels:        map[string]string{"app": "web", "tier": "front"},
	}
	if got, w := toJSON(web), toJSON(want); got != w {
		t.Errorf("web:\n got %s\nwant %s\nbundle:\n%s", got, w, plan.Bundle)
	}
	if job.RestartPolicy.Name != "" || !slices.Equal(job.Networks, []string{"host"}) || job.Command[2] != "echo $HOME" || job.StopTimeout != 30e9 {
		t.Errorf("job: %+v", job)
	}
	if !slices.Equal(plan.Volumes, []string{"db-data"}) {
		t.Errorf("volumes %q", plan.Volumes)
	}
	for _, w := range []string{"storage request 5Gi is not enforced", "memory request 64Mi is not enforced", "mounts the host path /srv/site"} {
		if !strings.Contains(strings.Join(plan.Warnings, "\n"), w) {
			t.Errorf("warnings lack %q: %q", w, plan.Warnings)
		}
	}
	err = plan.CheckSecrets(func(string) bool { return false })
	if err == nil || !strings.Contains(err.Error(), "app.yaml:40: document 3 (Deployment web): spec.template.spec.containers[0].volumeMounts[2].mountPath: secret db-password does not exist on this node (hint: create it first") {
		t.Errorf("CheckSecrets = %v", err)
	}
	if err := plan.CheckSecrets(func(string) bool { return true }); err != nil {
		t.Errorf("CheckSecrets with the secret = %v", err)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestPlayBundleProblemsAtManifestLines: what the bundle parser refuses is
// reported at the manifest's field, not at a line of the bundle text.
func TestPlayBundleProblemsAtManifestLines(t *testing.T) {
	m := deployment("web", "", "        ports: [{containerPort: 80, hostPort: 8080}]\n") + "---\n" +
		deployment("api", "", "        ports: [{containerPort: 81, hostPort: 8080}]\n        volumeMounts: []\n        workingDir: relative\n")
	_, err := Play("m.yaml", []byte(m))
	if err == nil {
		t.Fatal("two containers publishing host port 8080 were accepted")
	}
	for _, w := range []string{
		"m.yaml:31: document 2 (Deployment api): spec.template.spec.containers[0].ports[0]: host port 8080/tcp is already published by web's ports[0]",
		"document 2 (Deployment api): spec.template.spec.containers[0].workingDir:",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if strings.Contains(err.Error(), "(line ") {
		t.Errorf("error points at a line of the bundle text:\n%v", err)
	}
}

// TestSplitDocuments cuts at --- lines (a comment may follow) and counts
// lines from the file's start.
func TestSplitDocuments(t *testing.T) {
	docs := splitDocuments([]byte("---\n# c\n---   # x\na: 1\n--- \nb: 2\n---not a separator\n\n---\n"))
	if len(docs) != 2 || docs[0].line != 4 || string(docs[0].text) != "a: 1\n" || docs[1].line != 6 || docs[1].index != 2 {
		t.Errorf("docs = %+v", docs)
	}
}
