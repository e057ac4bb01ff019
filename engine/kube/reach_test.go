package kube

import (
	"errors"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// withAnnotation adds a budgie.sh/bundle annotation to a deployment.
func withAnnotation(m, extras string) string {
	return strings.Replace(m, "  name: web\n", "  name: web\n  annotations:\n    budgie.sh/bundle: '"+extras+"'\n", 1)
}

// TestPlayReachRefused: a probe, or the annotation's health check, of an
// address other than the container's own or the node's loopback is
// refused (the node's keeper would reach it), as is a budgie.sh/ label
// the annotation smuggles in (the bundle parser refuses it).
func TestPlayReachRefused(t *testing.T) {
	cases := []struct{ name, manifest, want string }{
		{"httpGet host", deployment("web", "", "        readinessProbe: {httpGet: {host: 169.254.169.254, port: 80, path: /latest/meta-data}}\n"),
			`m.yaml:15: document 1 (Deployment web): spec.template.spec.containers[0].readinessProbe.httpGet.host: a probe of host "169.254.169.254" is not supported: the node would probe that address (hint: Budgie's health check runs against the container itself`},
		{"https host", deployment("web", "", "        livenessProbe: {httpGet: {host: intranet.example, scheme: HTTPS, port: 443}}\n"),
			`livenessProbe.httpGet.host: a probe of host "intranet.example" is not supported`},
		{"tcpSocket host", deployment("web", "", "        readinessProbe: {tcpSocket: {host: 10.0.0.1, port: 22}}\n"),
			`readinessProbe.tcpSocket.host: a probe of host "10.0.0.1" is not supported`},
		{"annotation http", withAnnotation(deployment("web", "", ""), "health: {http: \"http://10.0.0.1:8080/x\"}"),
			`m.yaml:6: document 1 (Deployment web): metadata.annotations: a health check of "10.0.0.1" is not supported: the node would fetch that address`},
		{"annotation tcp", withAnnotation(deployment("web", "", ""), "health: {tcp: \"db.internal:5432\"}"),
			`metadata.annotations: a health check of "db.internal" is not supported: the node would connect to that address`},
		{"annotation health over a probe", withAnnotation(deployment("web", "", "        readinessProbe: {tcpSocket: {port: 80}}\n"), "health: {tcp: \"10.1.1.1:80\"}"),
			`metadata.annotations: a health check of "10.1.1.1" is not supported`},
		{"annotation label", withAnnotation(deployment("web", "", ""), "labels: {budgie.sh/bundle: x}"),
			`metadata.annotations: bundle field labels.budgie.sh/bundle: label "budgie.sh/bundle" is reserved`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Play("m.yaml", []byte(c.manifest))
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("Play = %v, want an invalid error with %q", err, c.want)
			}
		})
	}
}

// TestPlayReachWarned: what a manifest reaches on the node without
// declaring it — the host's network, a secret of the node's store, a
// volume no claim of the manifest declares — is a warning naming it.
func TestPlayReachWarned(t *testing.T) {
	m := deployment("web", "      hostNetwork: true\n      volumes:\n      - {name: s, secret: {secretName: s}}\n      - {name: v, persistentVolumeClaim: {claimName: other-data}}\n      - {name: d, persistentVolumeClaim: {claimName: mine}}\n",
		"        readinessProbe: {httpGet: {host: 127.0.0.1, port: 80}}\n        livenessProbe: {httpGet: {host: 127.0.0.1, port: 80}}\n        volumeMounts:\n        - {name: s, mountPath: /run/secrets/db-password, subPath: k}\n        - {name: v, mountPath: /v}\n        - {name: d, mountPath: /d}\n") +
		"---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: mine}\nspec: {accessModes: [ReadWriteOnce]}\n---\n" +
		withAnnotation(strings.ReplaceAll(deployment("web", "", ""), "web", "api"), "networks: [host]")
	m = strings.Replace(m, "  name: api\n", "  name: api\n  annotations:\n    budgie.sh/bundle: \"networks: [host]\"\n", 1)
	plan, err := Play("m.yaml", []byte(m))
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(plan.Warnings, "\n")
	for _, w := range []string{
		"m.yaml:12: document 1 (Deployment web): spec.template.spec.hostNetwork: container web runs on the host's network",
		"spec.template.spec.containers[0].volumeMounts[0].mountPath: mounts the node's secret db-password into container web",
		"spec.template.spec.volumes[1].persistentVolumeClaim.claimName: mounts the node's volume other-data into container web, though the manifest declares no PersistentVolumeClaim other-data",
		"document 3 (Deployment api): metadata.annotations: container api runs on the host's network",
	} {
		if !strings.Contains(all, w) {
			t.Errorf("warnings lack %q:\n%s", w, all)
		}
	}
	if strings.Contains(all, "volume mine") {
		t.Errorf("a volume the manifest declares is warned about:\n%s", all)
	}
	if h := plan.Specs[0].Health; h == nil || h.HTTP != "http://127.0.0.1:80" {
		t.Errorf("health %+v", h)
	}
}
