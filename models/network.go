package models

import "time"

// DefaultNetwork is the network containers join when their bundle names none.
const DefaultNetwork = "budgie0"

// HostNetwork is the network name that keeps a container in the host's
// network namespace (docker's --network host).
const HostNetwork = "host"

// Network is a container network: a Linux bridge with its own subnet.
type Network struct {
	// Name is the network's name ("budgie0" for the default one).
	Name string `json:"name"`
	// Bridge is the Linux bridge interface.
	Bridge string `json:"bridge"`
	// Subnet is the IPv4 subnet in CIDR form.
	Subnet string `json:"subnet"`
	// Gateway is the bridge's address, the containers' default route.
	Gateway string `json:"gateway"`
	// Internal networks have no route out of the host (no masquerade).
	Internal bool `json:"internal,omitempty"`
	// Default is true for budgie0, which cannot be removed.
	Default bool `json:"default,omitempty"`
	// Created is when the network was created.
	Created time.Time `json:"created"`
	// Endpoints are the containers attached now (filled by inspect).
	Endpoints []Endpoint `json:"endpoints,omitempty"`
}

// Endpoint is one container's attachment to a network.
type Endpoint struct {
	// Network is the network's name.
	Network string `json:"network"`
	// ContainerID is the attached container.
	ContainerID string `json:"container_id"`
	// ContainerName is its name; empty when unknown.
	ContainerName string `json:"container_name,omitempty"`
	// IfName is the interface inside the container ("eth0").
	IfName string `json:"ifname"`
	// IP is the container's address, without prefix length.
	IP string `json:"ip"`
	// PrefixLen is the subnet's prefix length.
	PrefixLen int `json:"prefix_len,omitempty"`
	// Gateway is the network's gateway.
	Gateway string `json:"gateway,omitempty"`
	// MAC is the interface's hardware address.
	MAC string `json:"mac,omitempty"`
}
