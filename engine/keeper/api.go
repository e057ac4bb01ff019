package keeper

import (
	"path/filepath"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// Files of the keeper under the data directory.
const (
	// SocketName is the API's unix socket (mode 0600).
	SocketName = "keeper.sock"
	// LockName is the lock that makes the keeper one per node; it holds the pid.
	LockName = "keeper.lock"
	// LogName is where a keeper started detached by Ensure writes.
	LogName = "keeper.log"
)

// SocketPath returns the API socket of the keeper of dataDir.
func SocketPath(dataDir string) string { return filepath.Join(dataDir, SocketName) }

// LockPath returns the lock file of the keeper of dataDir.
func LockPath(dataDir string) string { return filepath.Join(dataDir, LockName) }

// LogPath returns the log file of a detached keeper of dataDir.
func LogPath(dataDir string) string { return filepath.Join(dataDir, LogName) }

// Info is the answer of GET /v1/ping.
type Info struct {
	// Pid is the keeper's process ID.
	Pid int `json:"pid"`
	// Version is the budgie version it runs.
	Version string `json:"version"`
	// Started is when it started.
	Started time.Time `json:"started"`
}

// Supervision is the keeper's live state of one supervised container
// (one that has a restart policy or a health check).
type Supervision struct {
	// ID is the container's full ID.
	ID string `json:"id"`
	// Name is its name.
	Name string `json:"name"`
	// RestartCount is how often the keeper restarted it since the last manual start.
	RestartCount int `json:"restart_count"`
	// Restarting is true while a restart is pending (the backoff runs).
	Restarting bool `json:"restarting"`
	// NextRestart is when the pending restart happens; zero when none is pending.
	NextRestart time.Time `json:"next_restart,omitempty"`
	// Backoff is the current wait between a quick exit and the restart.
	Backoff time.Duration `json:"backoff,omitempty"`
	// ExitCode is the last exit code the keeper saw.
	ExitCode int `json:"exit_code"`
	// OOMKilled is true when the last exit followed an out-of-memory kill.
	OOMKilled bool `json:"oom_killed,omitempty"`
	// Health is the health state with its last results; nil without a health check.
	Health *models.Health `json:"health,omitempty"`
}

// StateResponse is the answer of GET /v1/state.
type StateResponse struct {
	Info
	// Containers are the supervised containers, in no particular order.
	Containers []Supervision `json:"containers"`
}

// NoticeType names what the keeper did or saw.
type NoticeType string

// Keeper event types.
const (
	// NoticeRestartScheduled: an exit will be answered with a restart at NextRestart.
	NoticeRestartScheduled NoticeType = "restart-scheduled"
	// NoticeRestarted: the keeper started the task again.
	NoticeRestarted NoticeType = "restarted"
	// NoticeRestartCancelled: a pending restart was dropped (a manual stop).
	NoticeRestartCancelled NoticeType = "restart-cancelled"
	// NoticeRestartFailed: starting the task again failed (Message says why).
	NoticeRestartFailed NoticeType = "restart-failed"
	// NoticeExited: the task exited and the policy says to leave it.
	NoticeExited NoticeType = "exited"
	// NoticeHealth: the health state changed (Health is the new one).
	NoticeHealth NoticeType = "health_status"
	// NoticeUnhealthyRestart: on_unhealthy: restart is stopping the task.
	NoticeUnhealthyRestart NoticeType = "unhealthy-restart"
	// NoticePeer: the table of containers discovered on the LAN changed
	// (Peer says how; ContainerID is empty, as the container is a peer's).
	NoticePeer NoticeType = "peer"
)

// Notice is one line of GET /v1/events (NDJSON).
type Notice struct {
	// Type is what happened.
	Type NoticeType `json:"type"`
	// ContainerID and Name say to which container.
	ContainerID string `json:"container_id"`
	Name        string `json:"name"`
	// Time is when it happened.
	Time time.Time `json:"time"`
	// RestartCount is the restart count after the event.
	RestartCount int `json:"restart_count"`
	// NextRestart is set on NoticeRestartScheduled.
	NextRestart time.Time `json:"next_restart,omitempty"`
	// ExitCode is the exit code on NoticeExited and NoticeRestartScheduled.
	ExitCode int `json:"exit_code"`
	// Health is set on NoticeHealth.
	Health models.HealthStatus `json:"health,omitempty"`
	// Message says more, on failures.
	Message string `json:"message,omitempty"`
	// Peer is set on NoticePeer.
	Peer *models.PeerEvent `json:"peer,omitempty"`
}
