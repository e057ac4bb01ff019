package models

import "time"

// EventType names what happened to a container.
type EventType string

// Container event types, from containerd's event stream.
const (
	EventCreate  EventType = "create"
	EventStart   EventType = "start"
	EventExit    EventType = "exit"
	EventOOM     EventType = "oom"
	EventDelete  EventType = "delete"
	EventUpdate  EventType = "update"
	EventPause   EventType = "pause"
	EventResume  EventType = "resume"
	EventRemove  EventType = "remove"
	EventUnknown EventType = "unknown"
)

// Event is one change to one container.
type Event struct {
	// Type is what happened.
	Type EventType `json:"type"`
	// ContainerID is the full ID of the container.
	ContainerID string `json:"container_id"`
	// Time is when containerd published it.
	Time time.Time `json:"time"`
	// ExitCode is set on EventExit.
	ExitCode int `json:"exit_code,omitempty"`
}

// Stats is one sample of a container's resource use.
type Stats struct {
	// ContainerID is the container's full ID.
	ContainerID string `json:"container_id"`
	// Time is when the sample was taken.
	Time time.Time `json:"time"`
	// CPUNanos is cumulative CPU time used, in nanoseconds.
	CPUNanos uint64 `json:"cpu_nanos"`
	// MemoryUsage is the memory in use, without page cache, in bytes.
	MemoryUsage uint64 `json:"memory_usage"`
	// MemoryLimit is the memory limit in bytes (0 when unlimited).
	MemoryLimit uint64 `json:"memory_limit"`
	// NetRx and NetTx are cumulative bytes received and sent; zero when the
	// container shares the host's network.
	NetRx uint64 `json:"net_rx"`
	NetTx uint64 `json:"net_tx"`
	// BlockRead and BlockWrite are cumulative block I/O bytes.
	BlockRead  uint64 `json:"block_read"`
	BlockWrite uint64 `json:"block_write"`
	// Pids is the number of processes.
	Pids uint64 `json:"pids"`
}

// CPUPercent is the CPU use between two samples as a percentage of one CPU
// (200 means two CPUs busy). It is 0 when the samples are not in order.
func CPUPercent(prev, cur Stats) float64 {
	dt := cur.Time.Sub(prev.Time)
	if dt <= 0 || cur.CPUNanos < prev.CPUNanos {
		return 0
	}
	return float64(cur.CPUNanos-prev.CPUNanos) / float64(dt.Nanoseconds()) * 100
}
