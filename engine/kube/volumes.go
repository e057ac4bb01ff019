package kube

import (
	"fmt"
	"path"

	corev1 "k8s.io/api/core/v1"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/models"
)

// secretsDir is where Budgie mounts secrets: /run/secrets/NAME.
const secretsDir = "/run/secrets"

// volumeMounts reads the container's mounts: a claim (a PersistentVolumeClaim
// or a StatefulSet's volumeClaimTemplate) is a named volume, a hostPath a
// bind mount, a secret volume at /run/secrets/NAME a Budgie secret.
func (pl *player) volumeMounts(w *workload, c *corev1.Container, cpath string) {
	vols := map[string]int{}
	for i, v := range w.pod.Volumes {
		vols[v.Name] = i
	}
	mounted := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := fmt.Sprintf("%s.volumeMounts[%d]", cpath, i)
		mounted[m.Name] = true
		if name, ok := w.templates[m.Name]; ok {
			pl.mountNamed(w, name, m, false, mp)
			continue
		}
		vi, ok := vols[m.Name]
		if !ok {
			w.d.problem(mp+".name", "declare it in "+w.podPath+".volumes", "no volume %q in the pod", m.Name)
			continue
		}
		v, vp := w.pod.Volumes[vi], fmt.Sprintf("%s.volumes[%d]", w.podPath, vi)
		switch {
		case v.PersistentVolumeClaim != nil:
			name, ok := pl.claims[v.PersistentVolumeClaim.ClaimName]
			if !ok {
				name = v.PersistentVolumeClaim.ClaimName
				if bundle.CheckName(name) != nil {
					w.d.problem(vp+".persistentVolumeClaim.claimName", "a volume name uses letters, digits, _, . and -", "invalid volume name %q", name)
					continue
				}
				pl.volumes[name] = true
				pl.warn(w.d, vp+".persistentVolumeClaim.claimName",
					"mounts the node's volume %s into container %s, though the manifest declares no PersistentVolumeClaim %s: a volume of that name that exists already is used as it is", name, w.spec.Name, name)
			}
			pl.mountNamed(w, name, m, v.PersistentVolumeClaim.ReadOnly, mp)
		case v.HostPath != nil:
			pl.mountHost(w, v, vp, m, mp)
		case v.Secret != nil:
			pl.mountSecret(w, v, vp, m, mp)
		default:
			w.d.problem(vp, "Budgie mounts persistentVolumeClaim, hostPath and secret volumes", "volume %q has no source Budgie can mount", v.Name)
		}
	}
	for i, v := range w.pod.Volumes {
		if !mounted[v.Name] {
			pl.warn(w.d, fmt.Sprintf("%s.volumes[%d]", w.podPath, i), "volume %q is not mounted by the container: nothing to do", v.Name)
		}
	}
	for name := range w.templates {
		if !mounted[name] {
			pl.warn(w.d, "spec.volumeClaimTemplates", "claim template %q is not mounted by the container: its volume is made, not mounted", name)
		}
	}
}

// mountNamed adds a named volume mount.
func (pl *player) mountNamed(w *workload, name string, m corev1.VolumeMount, readOnly bool, mp string) {
	if m.SubPath != "" {
		w.d.problem(mp+".subPath", "Budgie mounts a whole volume", "subPath is supported for secret volumes only")
		return
	}
	w.from(fmt.Sprintf("volumes[%d]", len(w.spec.Volumes)), mp)
	w.spec.Volumes = append(w.spec.Volumes, models.VolumeMount{Kind: models.VolumeNamed, Source: name,
		Target: m.MountPath, ReadOnly: m.ReadOnly || readOnly})
}

// mountHost adds a bind mount of a hostPath volume, with a warning: the
// manifest's author chose the host path.
func (pl *player) mountHost(w *workload, v corev1.Volume, vp string, m corev1.VolumeMount, mp string) {
	hp := v.HostPath
	if t := hp.Type; t != nil && *t != "" && *t != corev1.HostPathDirectory && *t != corev1.HostPathFile {
		w.d.problem(vp+".hostPath.type", "Budgie bind-mounts an existing path: use Directory or File (or leave type out)",
			"hostPath type %s is not supported", *t)
		return
	}
	if !path.IsAbs(hp.Path) {
		w.d.problem(vp+".hostPath.path", "write an absolute path", "host path %q is not absolute", hp.Path)
		return
	}
	if m.SubPath != "" {
		w.d.problem(mp+".subPath", "mount the sub-directory's host path itself", "subPath is supported for secret volumes only")
		return
	}
	pl.warn(w.d, vp+".hostPath", "mounts the host path %s into container %s%s", hp.Path, w.spec.Name, map[bool]string{true: " (read-only)", false: ""}[m.ReadOnly])
	w.from(fmt.Sprintf("volumes[%d]", len(w.spec.Volumes)), mp)
	w.spec.Volumes = append(w.spec.Volumes, models.VolumeMount{Kind: models.VolumeBind, Source: path.Clean(hp.Path),
		Target: m.MountPath, ReadOnly: m.ReadOnly})
}

// mountSecret takes a secret volume mounted as Budgie mounts secrets: one
// key (subPath) as the file /run/secrets/NAME, which is Budgie's secret
// NAME (the Kubernetes Secret's own name is where a cluster finds it).
func (pl *player) mountSecret(w *workload, v corev1.Volume, vp string, m corev1.VolumeMount, mp string) {
	target := path.Clean(m.MountPath)
	name := path.Base(target)
	switch {
	case path.Dir(target) != secretsDir:
		w.d.problem(mp+".mountPath", "Budgie mounts a secret as the file /run/secrets/NAME: mountPath: /run/secrets/NAME with subPath: KEY",
			"a secret volume at %s is not supported", m.MountPath)
	case bundle.CheckName(name) != nil:
		w.d.problem(mp+".mountPath", "a secret name uses letters, digits, _, . and -", "invalid secret name %q", name)
	case m.SubPath == "":
		w.d.problem(mp, "mount one key of the Secret as the file: subPath: KEY", "a secret volume without subPath is a directory of keys, which Budgie cannot mount")
	case v.Secret.Optional != nil && *v.Secret.Optional:
		w.d.problem(vp+".secret.optional", "create the secret on the node (budgie secret create "+name+") and leave optional out",
			"an optional secret is not supported")
	case contains(w.spec.Secrets, name):
		w.d.problem(mp, "", "secret %s is mounted twice", name)
	default:
		w.from(fmt.Sprintf("secrets[%d]", len(w.spec.Secrets)), mp)
		w.spec.Secrets = append(w.spec.Secrets, name)
		pl.warn(w.d, mp+".mountPath", "mounts the node's secret %s into container %s (the manifest holds no secret values: the node's store does)", name, w.spec.Name)
		pl.secrets = append(pl.secrets, secretUse{name: name, at: Problem{File: w.d.file, Line: w.d.lineOf(mp + ".mountPath"),
			Doc: w.d.doc.index, Kind: w.d.kind, Name: w.d.name, Field: mp + ".mountPath"}})
	}
}
