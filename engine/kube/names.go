package kube

import (
	"regexp"
	"strconv"
	"strings"
)

// Budgie's annotations and label on Kubernetes objects.
const (
	// AnnotationName holds a Budgie name (container, volume) that is not a
	// valid Kubernetes name; the object's metadata.name is then a
	// Kubernetes-safe form of it.
	AnnotationName = "budgie.sh/name"
	// AnnotationBundle holds, as bundle YAML, the fields of a container
	// that Kubernetes has no word for (restart_policy, stop_signal,
	// depends_on, networks…).
	AnnotationBundle = "budgie.sh/bundle"
	// AnnotationHostIP holds the host address a Service's ports are
	// published on (Kubernetes publishes on every address).
	AnnotationHostIP = "budgie.sh/host-ip"
	// LabelService is the label a workload's pods are selected by.
	LabelService = "budgie.sh/service"
)

// maxK8sName leaves room in a name for what Kubernetes appends to it (a
// StatefulSet's pods are NAME-0 and carry a revision label of NAME-hash).
const maxK8sName = 52

// k8sName returns a Kubernetes-safe form of a Budgie name: lower case,
// letters, digits and -, starting with a letter (a Service name is an
// RFC 1035 label), at most maxK8sName characters.
func k8sName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	out := b.String()
	if out == "" || out[0] < 'a' || out[0] > 'z' {
		out = "b-" + out
	}
	if len(out) > maxK8sName {
		out = out[:maxK8sName]
	}
	return strings.TrimRight(out, "-")
}

// unique returns name, or name-2, name-3… when taken has it; it marks the
// result taken.
func unique(name string, taken map[string]bool) string {
	out := name
	for i := 2; taken[out]; i++ {
		out = name + "-" + strconv.Itoa(i)
	}
	taken[out] = true
	return out
}

var (
	labelNameRE    = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	dnsSubdomainRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	dnsLabelRE     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// validLabel reports whether key=value is a valid Kubernetes label.
func validLabel(key, value string) bool {
	name := key
	if prefix, rest, ok := strings.Cut(key, "/"); ok {
		if len(prefix) > 253 || !dnsSubdomainRE.MatchString(prefix) {
			return false
		}
		name = rest
	}
	if len(name) > 63 || !labelNameRE.MatchString(name) {
		return false
	}
	return value == "" || (len(value) <= 63 && labelNameRE.MatchString(value))
}

// validDNSLabel reports whether s is an RFC 1123 label (a pod's hostname).
func validDNSLabel(s string) bool { return len(s) <= 63 && dnsLabelRE.MatchString(s) }

// validSecretName reports whether s can name a Kubernetes Secret.
func validSecretName(s string) bool { return len(s) <= 253 && dnsSubdomainRE.MatchString(s) }
