package models

import "time"

// TrustedPeer is a node this node replicates with: its certificate's ID
// was approved with `budgie trust add`.
type TrustedPeer struct {
	// ID is the node's full ID (56 base32 characters in groups of seven).
	ID string `json:"id"`
	// Name is what the node is called here: given when it was trusted, or
	// the name it claimed when it asked.
	Name string `json:"name,omitempty"`
	// Added is when it was trusted.
	Added time.Time `json:"added"`
}

// PendingPeer is a node that tried to connect without being trusted.
// Nothing it says is verified but its ID.
type PendingPeer struct {
	// ID is the node's full ID.
	ID string `json:"id"`
	// Name is the node name its certificate claims.
	Name string `json:"name,omitempty"`
	// Address is where its latest attempt came from (host:port).
	Address string `json:"address,omitempty"`
	// FirstSeen and LastSeen bound its attempts.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Count is how many attempts were recorded.
	Count int `json:"count"`
}

// DeniedPeer is a node whose requests were denied: its attempts are still
// refused and logged but no longer listed as pending.
type DeniedPeer struct {
	// ID is the node's full ID.
	ID string `json:"id"`
	// Name is the name it claimed when it was denied.
	Name string `json:"name,omitempty"`
	// Denied is when it was denied.
	Denied time.Time `json:"denied"`
}

// TrustList is a node's trust store: who it replicates with, who asked,
// and who was turned away. Each list is sorted by name, then ID.
type TrustList struct {
	Trusted []TrustedPeer `json:"trusted"`
	Pending []PendingPeer `json:"pending"`
	Denied  []DeniedPeer  `json:"denied"`
}

// ShortNodeID is the display form of a full node ID: its first group of
// seven characters. It identifies a node to people, never to programs.
func ShortNodeID(id string) string {
	if len(id) > 7 {
		return id[:7]
	}
	return id
}
