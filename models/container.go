package models

import (
	"strings"
	"time"
)

// ContainerState is a container's lifecycle state, in Docker's words.
type ContainerState string

// Container states.
const (
	StateCreated    ContainerState = "created"
	StateRunning    ContainerState = "running"
	StatePaused     ContainerState = "paused"
	StateRestarting ContainerState = "restarting"
	StateExited     ContainerState = "exited"
	StateUnknown    ContainerState = "unknown"
)

// Container is a container as Budgie lists it: what containerd holds, read
// back from the container record, its labels and its task.
type Container struct {
	// ID is the full container ID (64 hex characters).
	ID string `json:"id"`
	// Name is the container's name.
	Name string `json:"name"`
	// Image is the image reference.
	Image string `json:"image"`
	// State is the task's state; StateCreated when no task exists yet.
	State ContainerState `json:"state"`
	// Pid is the task's init process ID, or 0.
	Pid uint32 `json:"pid,omitempty"`
	// ExitCode is the last exit code when State is StateExited.
	ExitCode int `json:"exit_code"`
	// Created is when the container was created.
	Created time.Time `json:"created"`
	// StartedAt is when the task last started; zero if never.
	StartedAt time.Time `json:"started_at,omitempty"`
	// FinishedAt is when the task last exited; zero if it has not.
	FinishedAt time.Time `json:"finished_at,omitempty"`
	// Ports are the published ports, with the host ports the keeper chose
	// for random ones once it has published them.
	Ports []PortMapping `json:"ports,omitempty"`
	// Endpoints are the running task's network attachments; empty while
	// stopped and for host-network containers.
	Endpoints []Endpoint `json:"networks,omitempty"`
	// Service is the name shared by a bundle's replicas (and their load
	// balancer); for a single container it is its own name.
	Service string `json:"service,omitempty"`
	// Replica is the replica's number (1…N); 0 for a container without replicas.
	Replica int `json:"replica,omitempty"`
	// Labels are the user's labels (Budgie's own internal labels removed).
	Labels map[string]string `json:"labels,omitempty"`
	// Node is the name of the node it runs on.
	Node string `json:"node"`
	// BundlePath is the absolute path of the .bun it came from, if any.
	BundlePath string `json:"bundle_path,omitempty"`
	// Owner is what made it: "compose:PROJECT" for a compose project's
	// container, "kube:/abs/manifest.yaml" for kube play's; empty for a
	// plain bundle or image run. Run and down of one owner never touch
	// another's containers.
	Owner string `json:"owner,omitempty"`
	// RestartCount is how many times the keeper restarted it.
	RestartCount int `json:"restart_count"`
	// NextRestart is when the keeper will restart it next; zero if not pending.
	NextRestart time.Time `json:"next_restart,omitempty"`
	// Health is the health check's state; empty when it has none (or no keeper runs).
	Health HealthStatus `json:"health,omitempty"`
	// Spec is the bundle the container was created from; zero when the
	// budgie.spec labels are damaged (see Damaged).
	Spec ContainerSpec `json:"-"`
	// Damaged lists Budgie's labels on the container that cannot be read
	// back (a spec chunk lost or cut short, say); empty for a sound
	// container. State and the other fields are still containerd's.
	Damaged []LabelError `json:"damaged,omitempty"`
}

// LabelError is one of Budgie's container labels that cannot be read back.
type LabelError struct {
	// Label is the label's key; budgie.spec stands for all the spec's
	// chunk labels (budgie.spec.0, budgie.spec.1, …).
	Label string `json:"label"`
	// Error says why it cannot be read.
	Error string `json:"error"`
}

// DamagedLabels names the damaged labels, comma-separated ("budgie.spec"),
// or returns "" for a sound container.
func (c Container) DamagedLabels() string {
	names := make([]string, len(c.Damaged))
	for i, d := range c.Damaged {
		names[i] = d.Label
	}
	return strings.Join(names, ",")
}

// ShortID returns the first 12 characters of the ID.
func (c Container) ShortID() string { return ShortID(c.ID) }

// ShortID returns the first 12 characters of id.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Image is an image in the local store.
type Image struct {
	// Name is the full reference (docker.io/library/busybox:latest).
	Name string `json:"name"`
	// Repository is Name without the tag or digest.
	Repository string `json:"repository"`
	// Tag is the tag, or "<none>".
	Tag string `json:"tag"`
	// Digest is the manifest (or index) digest.
	Digest string `json:"digest"`
	// ID is the config digest, as docker's image ID.
	ID string `json:"id"`
	// Created is when the image record was created.
	Created time.Time `json:"created"`
	// Size is the compressed size of its content for this platform, in bytes.
	Size int64 `json:"size"`
}

// Volume is a named volume under data_dir/volumes.
type Volume struct {
	// Name of the volume.
	Name string `json:"name"`
	// Mountpoint is its directory on the host.
	Mountpoint string `json:"mountpoint"`
	// Created is when the directory was created.
	Created time.Time `json:"created"`
	// UsedBy lists the names of containers that mount it.
	UsedBy []string `json:"used_by"`
}

// HealthStatus is a health check's state, in Docker's words.
type HealthStatus string

// Health states.
const (
	HealthNone      HealthStatus = ""
	HealthStarting  HealthStatus = "starting"
	HealthHealthy   HealthStatus = "healthy"
	HealthUnhealthy HealthStatus = "unhealthy"
)

// HealthResult is one probe's outcome.
type HealthResult struct {
	// Start and End bound the probe.
	Start time.Time `json:"Start"`
	End   time.Time `json:"End"`
	// ExitCode is 0 for healthy, 1 for unhealthy (Docker's convention).
	ExitCode int `json:"ExitCode"`
	// Output is the probe's output, capped at 4 KiB.
	Output string `json:"Output"`
}

// Health is a container's health state with its last results (at most 5).
type Health struct {
	Status        HealthStatus   `json:"Status"`
	FailingStreak int            `json:"FailingStreak"`
	Log           []HealthResult `json:"Log"`
}
