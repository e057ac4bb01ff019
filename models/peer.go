package models

import "time"

// Peer is one container announced on the LAN by a node's keeper, as a
// browser last saw it (mDNS service _budgie._tcp).
type Peer struct {
	// NodeID is the announcing node's stable ID (32 hex characters).
	NodeID string `json:"node_id"`
	// NodeName is the node's name.
	NodeName string `json:"node_name"`
	// ContainerID is the container's full ID.
	ContainerID string `json:"container_id"`
	// Name is the container's name.
	Name string `json:"name"`
	// Image is the image reference; it ends in "…" when the announcement
	// had to shorten it.
	Image string `json:"image"`
	// State is the container's state (running or paused).
	State ContainerState `json:"state"`
	// Ports are the published ports.
	Ports []PortMapping `json:"ports,omitempty"`
	// MorePorts counts published ports left out of the announcement.
	MorePorts int `json:"more_ports,omitempty"`
	// Address is the node's address the announcement came from.
	Address string `json:"address"`
	// SyncPort is the node's replication port.
	SyncPort int `json:"sync_port"`
	// Fingerprint is the node's certificate fingerprint; empty until
	// replication announces one.
	Fingerprint string `json:"fingerprint,omitempty"`
	// FirstSeen and LastSeen bound when the browser saw it.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// PeerNode is one node on the LAN with the containers it announces.
type PeerNode struct {
	// ID is the node's stable ID.
	ID string `json:"id"`
	// Name is the node's name.
	Name string `json:"name"`
	// Address is where its announcements came from.
	Address string `json:"address"`
	// SyncPort is its replication port.
	SyncPort int `json:"sync_port"`
	// Fingerprint is its certificate fingerprint, when announced.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Local is true for the node that answers the question.
	Local bool `json:"local,omitempty"`
	// LastSeen is the latest time any of its announcements was seen.
	LastSeen time.Time `json:"last_seen"`
	// Containers are its running containers, by name.
	Containers []Peer `json:"containers"`
}

// PeerEventType says what changed in the peer table.
type PeerEventType string

// Peer event types.
const (
	// PeerAppeared: a container was seen for the first time (or again after expiring).
	PeerAppeared PeerEventType = "peer-appeared"
	// PeerUpdated: an announced container changed (state, ports, address).
	PeerUpdated PeerEventType = "peer-updated"
	// PeerExpired: a container was not seen for the expiry time and was dropped.
	PeerExpired PeerEventType = "peer-expired"
	// NodeAppeared and NodeExpired: a node's own announcement came and went.
	NodeAppeared PeerEventType = "node-appeared"
	NodeExpired  PeerEventType = "node-expired"
)

// PeerEvent is one change in the peer table.
type PeerEvent struct {
	// Type is what changed.
	Type PeerEventType `json:"type"`
	// Time is when the browser noticed.
	Time time.Time `json:"time"`
	// Peer is the container (empty for node events but NodeID, NodeName and Address).
	Peer Peer `json:"peer"`
}
