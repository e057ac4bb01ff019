package runtime

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// Budgie's container labels. containerd is the source of truth: the bundle
// and the state Budgie needs beyond containerd's own live in these labels,
// never in a second copy.
const (
	// LabelPrefix starts every Budgie label; user labels may not use it.
	LabelPrefix = "budgie."
	// LabelName is the container's name.
	LabelName = "budgie.name"
	// LabelNode is the node that created the container.
	LabelNode = "budgie.node"
	// LabelBundle is the absolute path of the bundle file.
	LabelBundle = "budgie.bundle"
	// LabelOwner is what made the container: "compose:PROJECT" or
	// "kube:/abs/manifest.yaml"; absent for a plain run.
	LabelOwner = "budgie.owner"
	// LabelSpec is the JSON spec, split over budgie.spec.0, budgie.spec.1, …
	// because containerd caps a label at 4 KiB.
	LabelSpec = "budgie.spec"
	// LabelStartedAt is when the task last started (RFC 3339).
	LabelStartedAt = "budgie.started-at"
	// LabelFinishedAt is when the task last exited (RFC 3339).
	LabelFinishedAt = "budgie.finished-at"
	// LabelExitCode is the last exit code of a deleted task.
	LabelExitCode = "budgie.exit-code"
	// LabelStoppedByUser is "true" after a manual stop, until the next start.
	LabelStoppedByUser = "budgie.stopped-by-user"
	// LabelRestartCount counts restarts done by the keeper.
	LabelRestartCount = "budgie.restart-count"
	// LabelAutoRemove is "true" for containers run with --rm.
	LabelAutoRemove = "budgie.auto-remove"
	// LabelService is the service a replica belongs to (the bundle's name).
	LabelService = "budgie.service"
	// LabelReplica is a replica's number, 1…N.
	LabelReplica = "budgie.replica"
	// LabelPorts is the JSON list of published ports with the host ports
	// the keeper chose for random ones.
	LabelPorts = "budgie.ports"
)

// specChunk keeps each label (key + value) well under containerd's 4096-byte cap.
const specChunk = 3800

// encodeSpec stores spec as JSON split into chunk labels.
func encodeSpec(spec models.ContainerSpec, labels map[string]string) error {
	b, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	s := string(b)
	for i := 0; len(s) > 0; i++ {
		n := min(specChunk, len(s))
		labels[LabelSpec+"."+strconv.Itoa(i)] = s[:n]
		s = s[n:]
	}
	return nil
}

// decodeSpec reassembles the spec from its chunk labels.
func decodeSpec(labels map[string]string) (models.ContainerSpec, error) {
	var spec models.ContainerSpec
	var b strings.Builder
	for i := 0; ; i++ {
		part, ok := labels[LabelSpec+"."+strconv.Itoa(i)]
		if !ok {
			break
		}
		b.WriteString(part)
	}
	if b.Len() == 0 {
		return spec, fmt.Errorf("container has no %s.0 label", LabelSpec)
	}
	if err := json.Unmarshal([]byte(b.String()), &spec); err != nil {
		return models.ContainerSpec{}, fmt.Errorf("decode spec labels (%d bytes): %w", b.Len(), err)
	}
	return spec, nil
}

// readLabels reads the spec and the published ports from a container's
// labels, listing every Budgie label that cannot be read instead of
// dropping it: a damaged spec gives a zero spec, damaged ports the
// spec's own.
func readLabels(labels map[string]string) (models.ContainerSpec, []models.PortMapping, []models.LabelError) {
	var damaged []models.LabelError
	spec, err := decodeSpec(labels)
	if err != nil {
		damaged = append(damaged, models.LabelError{Label: LabelSpec, Error: err.Error()})
	}
	ports := spec.Ports
	if v, ok := labels[LabelPorts]; ok && v != "" {
		var published []models.PortMapping
		if err := json.Unmarshal([]byte(v), &published); err != nil {
			damaged = append(damaged, models.LabelError{Label: LabelPorts, Error: fmt.Sprintf("decode ports label: %v", err)})
		} else {
			ports = published
		}
	}
	return spec, ports, damaged
}

// userLabels returns labels without Budgie's own, sorted by key for stable output.
func userLabels(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		if !strings.HasPrefix(k, LabelPrefix) {
			out[k] = v
		}
	}
	return out
}

func labelTime(labels map[string]string, key string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, labels[key])
	return t
}

func labelInt(labels map[string]string, key string) int {
	n, _ := strconv.Atoi(labels[key])
	return n
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
