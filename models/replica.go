package models

import "time"

// ReplicaPlan is what a primary tells a replicating node about one of its
// containers (sync metadata key "container/REF"): everything needed to
// create the same container elsewhere.
type ReplicaPlan struct {
	// NodeID is the primary's discovery node ID; NodeName its name.
	NodeID   string `json:"node_id"`
	NodeName string `json:"node_name"`
	// Identity is the primary's identity ID (its certificate's hash).
	Identity string `json:"identity"`
	// ContainerID and Name identify the container on the primary.
	ContainerID string `json:"container_id"`
	Name        string `json:"name"`
	// Spec is the container's bundle as the primary runs it.
	Spec ContainerSpec `json:"spec"`
	// Image is the image reference; ImageDigest its manifest (or index)
	// digest on the primary.
	Image       string `json:"image"`
	ImageDigest string `json:"image_digest"`
	// Volumes are the container's named volumes, the ones that are synced.
	Volumes []ReplicaVolume `json:"volumes"`
	// Ports are the published ports; Secrets the secrets the replica needs.
	Ports   []PortMapping `json:"ports,omitempty"`
	Secrets []string      `json:"secrets,omitempty"`
}

// ReplicaVolume is one named volume of a replicated container.
type ReplicaVolume struct {
	// Name is the volume's name, the same on both nodes.
	Name string `json:"name"`
	// Target is where the container mounts it.
	Target string `json:"target"`
	// Files and Bytes size its content on the primary; zero until measured.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// ReplicaState says how a replica's continuous sync is doing.
type ReplicaState string

// Replica states.
const (
	// ReplicaConnecting: looking for the primary or dialing it.
	ReplicaConnecting ReplicaState = "connecting"
	// ReplicaSyncing: a sync is running.
	ReplicaSyncing ReplicaState = "syncing"
	// ReplicaOK: the last sync of every volume succeeded.
	ReplicaOK ReplicaState = "ok"
	// ReplicaError: the last attempt failed; Message says why.
	ReplicaError ReplicaState = "error"
	// ReplicaOff: the replica is not kept in sync (replica-sync=off).
	ReplicaOff ReplicaState = "off"
)

// ReplicaStatus is the keeper's view of one local replica (GET /v1/replicas).
type ReplicaStatus struct {
	// ContainerID and Name identify the local replica.
	ContainerID string `json:"container_id"`
	Name        string `json:"name"`
	// Primary is "NODEID/CONTAINERID" of the container it copies;
	// PrimaryNode the primary's name when discovery knows it.
	Primary     string `json:"primary"`
	PrimaryNode string `json:"primary_node,omitempty"`
	// State and Message say how the sync goes.
	State   ReplicaState `json:"state"`
	Message string       `json:"message,omitempty"`
	// LastSync is when a sync last completed; zero if none has.
	LastSync time.Time `json:"last_sync,omitempty"`
	// BytesReceived counts wire bytes received by the keeper's syncs.
	BytesReceived int64 `json:"bytes_received"`
	// Syncs counts completed syncs (full or of changed paths).
	Syncs int `json:"syncs"`
}
