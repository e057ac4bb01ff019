package cli

import (
	"fmt"
	"os"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/models"
)

// KubeCmd moves containers to Kubernetes and back (podman kube's verbs).
type KubeCmd struct {
	Generate KubeGenerateCmd `cmd:"" help:"Write Kubernetes manifests of containers, services or bundles."`
	Play     KubePlayCmd     `cmd:"" help:"Run the containers a Kubernetes manifest describes (the subset Budgie can honour)."`
	Down     KubeDownCmd     `cmd:"" help:"Stop and remove what kube play made of a manifest (-v: and its volumes)."`
}

// Help is the detail under kube's --help.
func (*KubeCmd) Help() string {
	return `generate writes Deployments (StatefulSets when a container mounts named
volumes), Services and PersistentVolumeClaims built from the k8s.io/api
types; play runs Pods, Deployments, StatefulSets, Services,
PersistentVolumeClaims and ConfigMaps, and refuses anything else by kind
and field; down undoes play. generate then play gives the same containers.
docs/interop.md maps every field. No Kubernetes cluster is involved:
the manifests are for k3s or any cluster, and play runs them on this node.`
}

// KubeGenerateCmd writes the manifests of containers, services or bundles.
type KubeGenerateCmd struct {
	Output string   `short:"o" help:"Write the manifests to FILE instead of standard output." placeholder:"FILE" type:"path"`
	Refs   []string `arg:"" name:"container|service|bundle" predictor:"container" help:"Containers (name or ID), services of replicas, or bundle files (.bun)."`
}

// Help is the detail and examples under the command's --help.
func (*KubeGenerateCmd) Help() string {
	return `A container's manifest is built from the spec stored in its labels (what
it was created from); a service of replicas becomes one workload with that
many replicas; a bundle file is read as run reads it. Secrets are
references (a secret volume at /run/secrets/NAME): their values are never
read. Fields Kubernetes has no word for travel in the budgie.sh/bundle
annotation, so that kube play gives the same containers back; each
document's "# NOTE:" comments say what Kubernetes does differently
(with -o they are also printed on stderr).

Examples:
  budgie --headless kube generate web                    # manifests on stdout
  budgie --headless kube generate -o app.yaml web db     # into a file
  budgie --headless kube generate -o web.yaml testdata/bundles/web.bun
  kubectl apply -f app.yaml                              # on k3s, say`
}

// Run writes the manifests.
func (c *KubeGenerateCmd) Run(g *Globals, eng *engine.Engine) error {
	m, err := eng.KubeGenerate(g.ctx, c.Refs, engine.KubeGenerateOptions{})
	if err != nil {
		return err
	}
	if c.Output == "" || c.Output == "-" {
		_, err := os.Stdout.Write(m.YAML)
		return err
	}
	for _, w := range m.Warnings {
		fmt.Fprintln(os.Stderr, "budgie: note: "+w)
	}
	return writeFileAtomic(c.Output, m.YAML)
}

// KubePlayCmd runs a Kubernetes manifest's containers.
type KubePlayCmd struct {
	PrintBundle bool   `help:"Print the bundle (.bun) the manifest makes and run nothing; needs no containerd."`
	File        string `arg:"" name:"manifest" help:"The Kubernetes manifest (YAML, documents separated by ---)." type:"existingfile"`
}

// Help is the detail and examples under the command's --help.
func (*KubePlayCmd) Help() string {
	return `Pods, Deployments (replicas: N runs NAME-1 … NAME-N behind the load
balancer) and StatefulSets become containers; Services publish their
ports on the host (LoadBalancer: at port; NodePort: at nodePort, or a
random port); PersistentVolumeClaims and volumeClaimTemplates are named
volumes; ConfigMaps are taken as env (configMapKeyRef, envFrom); a secret
volume at /run/secrets/NAME is Budgie's secret NAME, which must exist
(budgie secret create NAME). Every document is decoded strictly by the
k8s.io/api types, and anything Budgie cannot carry out is refused by kind
and field with the file, line and document (exit 2), nothing run. The
manifest becomes a bundle that runs as budgie run runs one: played again,
its containers are reconciled ("web: unchanged"). Warnings (a hostPath
mount, a size Budgie does not enforce) go to stderr.

Examples:
  budgie --headless kube play app.yaml               # the containers' IDs
  budgie --headless kube play --print-bundle app.yaml > app.bun
  budgie --headless kube down -v app.yaml`
}

// Run plays the manifest, printing each container's ID (or, when they
// exist already, what reconciling did).
func (c *KubePlayCmd) Run(g *Globals) error {
	plan, err := engine.KubePlan(c.File) // a bad manifest fails before containerd is reached
	if err != nil {
		return err
	}
	if c.PrintBundle {
		printWarnings(os.Stderr, plan.Warnings)
		_, err = os.Stdout.Write(plan.Bundle)
		return err
	}
	eng, err := g.Engine()
	if err != nil {
		return err
	}
	_, err = eng.KubePlay(g.ctx, c.File, engine.KubePlayOptions{
		Plan: plan, Pull: g.pullFunc(), KeeperArgv: eng.KeeperCommand(),
		Started:    func(ctr models.Container) { fmt.Println(ctr.ID) },
		Reconciled: func(r engine.ReconcileResult) { fmt.Printf("%s: %s\n", r.Name, r.Action) },
		Warning:    func(w string) { printWarnings(os.Stderr, []string{w}) },
	})
	return err
}

// KubeDownCmd takes down what kube play made.
type KubeDownCmd struct {
	Volumes bool   `short:"v" help:"Also remove the named volumes of the manifest's claims (not those other containers still use)."`
	Time    *int   `short:"t" help:"Seconds to wait for the stop signal before SIGKILL (default: each container's stop timeout)."`
	File    string `arg:"" name:"manifest" help:"The manifest given to kube play." type:"existingfile"`
}

// Help is the detail and example under the command's --help.
func (*KubeDownCmd) Help() string {
	return `The manifest is read again as play reads it (a bad one fails with its
file:line and nothing is touched); each container it makes (with every
replica) is stopped and removed, dependents first. Containers that are not
there are skipped, so down can be run again. Named volumes are kept
unless -v. Prints each container removed, then each volume removed.

Example:
  budgie --headless kube down -v app.yaml
  web
  volume web-data`
}

// Run takes the manifest's containers down; a bad manifest fails before
// containerd is reached.
func (c *KubeDownCmd) Run(g *Globals) error {
	if _, err := engine.KubePlan(c.File); err != nil {
		return err
	}
	eng, err := g.Engine()
	if err != nil {
		return err
	}
	opts, err := downOptions(c.Volumes, c.Time, "kube play")
	if err != nil {
		return err
	}
	return eng.KubeDown(g.ctx, c.File, opts)
}
