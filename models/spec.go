package models

import "time"

// ContainerSpec is one container as a bundle describes it, after parsing and
// validation. It is what the engine runs and what it stores (as JSON) in the
// container's labels, so that containerd stays the single source of truth.
type ContainerSpec struct {
	// Name is the container's unique name on this node.
	Name string `json:"name"`
	// Image is the normalised image reference (docker.io/library/busybox:latest).
	Image string `json:"image"`
	// Command replaces the image's entrypoint when non-empty.
	Command []string `json:"command,omitempty"`
	// Args replaces the image's cmd when non-empty.
	Args []string `json:"args,omitempty"`
	// Workdir is the working directory; empty means the image's.
	Workdir string `json:"workdir,omitempty"`
	// User is "uid[:gid]" or a name from the image's /etc/passwd; empty means the image's.
	User string `json:"user,omitempty"`
	// Hostname is the container's host name; empty means the container name.
	Hostname string `json:"hostname,omitempty"`
	// Env holds KEY=VALUE pairs: env_file first, then the bundle's env (which wins).
	Env []string `json:"env,omitempty"`
	// Ports are published ports.
	Ports []PortMapping `json:"ports,omitempty"`
	// Volumes are named volumes and bind mounts.
	Volumes []VolumeMount `json:"volumes,omitempty"`
	// Resources are cgroup limits; the zero value means no limits.
	Resources Resources `json:"resources,omitempty"`
	// RestartPolicy says what the keeper does when the task exits.
	RestartPolicy RestartPolicy `json:"restart_policy,omitempty"`
	// StopTimeout is how long stop waits after StopSignal before SIGKILL; zero means 10 s.
	StopTimeout time.Duration `json:"stop_timeout,omitempty"`
	// StopSignal is the signal stop sends first; empty means SIGTERM.
	StopSignal string `json:"stop_signal,omitempty"`
	// Health is the health check; nil means none.
	Health *HealthCheck `json:"health,omitempty"`
	// DependsOn lists containers that must reach a condition before this one starts.
	DependsOn []Dependency `json:"depends_on,omitempty"`
	// Replicas asks for several copies behind a load balancer; nil means one.
	Replicas *Replicas `json:"replicas,omitempty"`
	// Networks the container joins; empty means the default network.
	Networks []string `json:"networks,omitempty"`
	// Secrets are secret names mounted at /run/secrets/NAME.
	Secrets []string `json:"secrets,omitempty"`
	// Labels are user labels copied onto the container.
	Labels map[string]string `json:"labels,omitempty"`
	// Tty gives the main process a terminal (docker run -t, compose's
	// tty), stdout and stderr merged into it: its output goes to the
	// container's log, and also to the caller of an attached run
	// (budgie run -it).
	Tty bool `json:"tty,omitempty"`
	// StdinOpen gives the main process the caller's stdin when it is run
	// attached (docker run -i, compose's stdin_open). Started in the
	// background (run -d, start, a keeper restart) nobody feeds it: it
	// reads end-of-file at once, or, with Tty, a terminal that waits.
	StdinOpen bool `json:"stdin_open,omitempty"`
}

// Interactive reports whether the container is run attached to the
// caller's streams instead of its log alone (tty or stdin_open set).
func (s ContainerSpec) Interactive() bool { return s.Tty || s.StdinOpen }

// PortMapping publishes a container port on the host.
type PortMapping struct {
	// HostIP is the address to bind; empty means all addresses.
	HostIP string `json:"host_ip,omitempty"`
	// HostPort is the host port; zero means a random free port.
	HostPort uint16 `json:"host_port,omitempty"`
	// ContainerPort is the port inside the container.
	ContainerPort uint16 `json:"container_port"`
	// Protocol is "tcp" (the default), "http" (TCP on the wire, but the
	// load balancer proxies and balances each request) or "udp".
	Protocol string `json:"protocol,omitempty"`
}

// VolumeKind says where a mount's data lives.
type VolumeKind string

// Volume kinds.
const (
	// VolumeNamed is a named volume under data_dir/volumes/NAME.
	VolumeNamed VolumeKind = "volume"
	// VolumeBind is a host path bind-mounted into the container.
	VolumeBind VolumeKind = "bind"
)

// VolumeMount is one volume or bind mount.
type VolumeMount struct {
	// Kind is VolumeNamed or VolumeBind.
	Kind VolumeKind `json:"kind"`
	// Source is the volume name (named) or the absolute host path (bind).
	Source string `json:"source"`
	// Target is the absolute path inside the container.
	Target string `json:"target"`
	// ReadOnly mounts it read-only.
	ReadOnly bool `json:"read_only,omitempty"`
}

// Resources are cgroup limits. A zero field means "no limit" for that resource.
type Resources struct {
	// CPUShares is the relative CPU weight (cpu.shares).
	CPUShares uint64 `json:"cpu_shares,omitempty"`
	// CPUQuota is the CFS quota in microseconds per CPUPeriod.
	CPUQuota int64 `json:"cpu_quota,omitempty"`
	// CPUPeriod is the CFS period in microseconds; zero means 100000 when CPUQuota is set.
	CPUPeriod uint64 `json:"cpu_period,omitempty"`
	// Memory is the memory limit in bytes.
	Memory int64 `json:"memory,omitempty"`
	// MemorySwap is memory plus swap in bytes; -1 means unlimited swap.
	MemorySwap int64 `json:"memory_swap,omitempty"`
	// BlkioWeight is the block I/O weight (10–1000).
	BlkioWeight uint16 `json:"blkio_weight,omitempty"`
	// PidsLimit is the maximum number of processes.
	PidsLimit int64 `json:"pids_limit,omitempty"`
}

// NanoCPUs returns the CPU limit in units of 1e-9 CPUs, as docker's NanoCpus, or 0.
func (r Resources) NanoCPUs() int64 {
	if r.CPUQuota <= 0 {
		return 0
	}
	period := r.CPUPeriod
	if period == 0 {
		period = 100000
	}
	return r.CPUQuota * 1e9 / int64(period)
}

// Restart policy names.
const (
	RestartNo            = "no"
	RestartAlways        = "always"
	RestartOnFailure     = "on-failure"
	RestartUnlessStopped = "unless-stopped"
)

// RestartPolicy is Docker's restart policy. The zero value means "no".
type RestartPolicy struct {
	// Name is one of RestartNo, RestartAlways, RestartOnFailure, RestartUnlessStopped.
	Name string `json:"name,omitempty"`
	// MaxRetries bounds on-failure restarts; zero means unlimited.
	MaxRetries int `json:"max_retries,omitempty"`
}

// HealthCheck describes how the keeper probes a container.
type HealthCheck struct {
	// Cmd is run inside the container; exit 0 is healthy.
	Cmd []string `json:"cmd,omitempty"`
	// HTTP is a URL path or full URL fetched with GET; 200–399 is healthy.
	HTTP string `json:"http,omitempty"`
	// TCP is "[host:]port" to connect to.
	TCP string `json:"tcp,omitempty"`
	// Interval between probes; zero means 30 s.
	Interval time.Duration `json:"interval,omitempty"`
	// Timeout of one probe; zero means 30 s.
	Timeout time.Duration `json:"timeout,omitempty"`
	// Retries is how many consecutive failures make it unhealthy; zero means 3.
	Retries int `json:"retries,omitempty"`
	// StartPeriod is the grace time after start during which failures do not count.
	StartPeriod time.Duration `json:"start_period,omitempty"`
	// OnUnhealthy is "" (nothing) or "restart".
	OnUnhealthy string `json:"on_unhealthy,omitempty"`
}

// Dependency conditions.
const (
	ConditionStarted               = "started"
	ConditionHealthy               = "healthy"
	ConditionCompletedSuccessfully = "completed_successfully"
)

// Dependency is one depends_on entry.
type Dependency struct {
	// Name of the container depended on.
	Name string `json:"name"`
	// Condition is one of the Condition constants; empty means started.
	Condition string `json:"condition,omitempty"`
	// Timeout for reaching the condition; zero means 60 s.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// Replicas asks for several copies of a container.
type Replicas struct {
	// Count is the number of copies (at least 1).
	Count int `json:"count"`
	// Strategy is "round-robin" (the default) or "least-connections".
	Strategy string `json:"strategy,omitempty"`
}
