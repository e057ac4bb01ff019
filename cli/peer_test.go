package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/models"
)

// refusedPlan is a dry run of a primary whose plan mounts a host path,
// uses the host's network and a secret this node did not allow: the
// Admission is what engine/replica's admit makes of it.
func refusedPlan() replica.Result {
	raw := models.ContainerSpec{Name: "app", Image: "registry:5000/app/server:2.1",
		Command: []string{"/server"}, Args: []string{"--port", "9000", "--motd", "hello world"},
		Env:      []string{"DB_USER=app", "DB_PASSWORD=hunter2", "MODE=prod"},
		Volumes:  []models.VolumeMount{{Kind: models.VolumeNamed, Source: "appdata", Target: "/var/lib/app"}, {Kind: models.VolumeBind, Source: "/etc", Target: "/host-etc"}},
		Ports:    []models.PortMapping{{HostIP: "192.168.1.20", HostPort: 9000, ContainerPort: 9000, Protocol: "udp"}},
		Networks: []string{"host", "backend"}, Secrets: []string{"api-key"},
		RestartPolicy: models.RestartPolicy{Name: models.RestartOnFailure, MaxRetries: 3},
		Health:        &models.HealthCheck{HTTP: ":9000/healthz", Interval: 10 * time.Second}}
	admitted := raw
	admitted.Name = "app2"
	admitted.Volumes = raw.Volumes[:1]
	admitted.Ports = []models.PortMapping{{HostPort: 9000, ContainerPort: 9000, Protocol: "udp"}}
	admitted.Networks = []string{"backend"}
	admitted.Secrets = nil
	return replica.Result{
		Plan: models.ReplicaPlan{Name: "app", ContainerID: strings.Repeat("ab", 32), Image: raw.Image,
			ImageDigest: "sha256:" + strings.Repeat("cd", 32), Spec: raw, Secrets: raw.Secrets},
		Admission: replica.Admission{Spec: admitted,
			Volumes: []models.ReplicaVolume{{Name: "appdata", Target: "/var/lib/app", Files: 12, Bytes: 3_400_000}},
			Refused: []string{
				`bind mount of host path "/etc" at "/host-etc" (a replica never mounts host paths)`,
				`host address "192.168.1.20" of port 9000 (the primary's addresses mean nothing here; published on all addresses)`,
				"network host (a replica gets its own network namespace; it joins the default network)",
				"secret api-key (a replica reads this node's secrets only when you allow each: --secret api-key)",
			}},
		Primary: models.PeerNode{Name: "attic\x1b[2J"},
	}
}

func TestPrintPlan(t *testing.T) {
	var out bytes.Buffer
	if err := printPlan(&out, refusedPlan()); err != nil {
		t.Fatal(err)
	}
	want := `container:    app (abababababab) on attic\x1b[2J, runs here as app2
image:        registry:5000/app/server:2.1@sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd (copied from the primary)
command:      /server --port 9000 --motd "hello world"
env:          3 variables: DB_USER, DB_PASSWORD, MODE
volume:       appdata → /var/lib/app: 12 files, 3.4MB
ports:        0.0.0.0:9000->9000/udp
networks:     backend
secrets:      none
restart:      on-failure:3
health:       http :9000/healthz every 10s
to transfer:  at most 3.4MB of volume data
refused:
  - bind mount of host path "/etc" at "/host-etc" (a replica never mounts host paths)
  - host address "192.168.1.20" of port 9000 (the primary's addresses mean nothing here; published on all addresses)
  - network host (a replica gets its own network namespace; it joins the default network)
  - secret api-key (a replica reads this node's secrets only when you allow each: --secret api-key)
`
	if got := out.String(); got != want {
		t.Errorf("printPlan wrote\n%s\nwant\n%s", got, want)
	}
	for _, never := range []string{"hunter2", "\x1b", "networks:     host"} {
		if strings.Contains(out.String(), never) {
			t.Errorf("printPlan shows %q", never)
		}
	}
}

func TestPrintPlanNothingRefused(t *testing.T) {
	res := refusedPlan()
	res.Admission.Refused, res.Admission.Spec.Env, res.Admission.Volumes = nil, nil, nil
	var out bytes.Buffer
	if err := printPlan(&out, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nrefused: nothing\n", "\nenv:          none\n", "\nvolumes:      none\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printPlan lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPrintLeftOutAndPeersArePrintable(t *testing.T) {
	var out bytes.Buffer
	printLeftOut(&out, []string{"network host\x1b]0;pwned\x07"})
	if got := out.String(); got != `warning: left out: network host\x1b]0;pwned\a`+"\n" {
		t.Errorf("printLeftOut wrote %q", got)
	}
	out.Reset()
	peers := []models.Peer{{NodeName: "att\u009bic", Name: "app", ContainerID: strings.Repeat("ab", 32),
		Image: "evil\u202eimage", State: models.StateRunning, Address: "192.168.1.20"}}
	if err := printPeers(&out, peers, nil); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); strings.ContainsAny(s, "\u009b\u202e") || !strings.Contains(s, `att\u009bic`) || !strings.Contains(s, `evil\u202eimage`) {
		t.Errorf("printPeers wrote\n%s", s)
	}
}
