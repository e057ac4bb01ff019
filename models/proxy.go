package models

// ServiceStats is the load balancer's view of one published port of a
// service: where it listens and how each backend fares.
type ServiceStats struct {
	// Name is the service (the bundle's container name).
	Name string `json:"name"`
	// HostIP is the bound address; empty means all addresses.
	HostIP string `json:"host_ip,omitempty"`
	// HostPort is the bound host port.
	HostPort uint16 `json:"host_port"`
	// Protocol is "tcp", "http" or "udp".
	Protocol string `json:"protocol"`
	// Strategy is "round-robin" or "least-connections".
	Strategy string `json:"strategy"`
	// Backends are the replicas behind it, in replica order.
	Backends []BackendStats `json:"backends"`
}

// BackendStats are one backend's counters since the keeper started.
type BackendStats struct {
	// ID is the container's ID.
	ID string `json:"id"`
	// Name is the container's name.
	Name string `json:"name"`
	// Addr is the backend's address (container IP:port).
	Addr string `json:"addr"`
	// Healthy is false while its health check fails: it gets no new traffic.
	Healthy bool `json:"healthy"`
	// Requests counts HTTP requests, or connections (tcp) and sessions (udp).
	Requests int64 `json:"requests"`
	// Active counts connections (or requests in flight) open now.
	Active int64 `json:"active"`
	// Failures counts dials and requests that failed.
	Failures int64 `json:"failures"`
	// BytesIn and BytesOut count bytes from and to the client.
	BytesIn  int64 `json:"bytes_in"`
	BytesOut int64 `json:"bytes_out"`
}
