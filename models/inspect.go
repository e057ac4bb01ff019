package models

// Inspect is one element of `budgie inspect`'s JSON array, in the shape of
// `docker inspect` so that scripts and tools written for Docker read it,
// plus a Budgie section.
type Inspect struct {
	ID              string         `json:"Id"`
	Created         string         `json:"Created"`
	Path            string         `json:"Path"`
	Args            []string       `json:"Args"`
	State           InspectState   `json:"State"`
	Image           string         `json:"Image"`
	Name            string         `json:"Name"`
	RestartCount    int            `json:"RestartCount"`
	HostConfig      InspectHost    `json:"HostConfig"`
	Mounts          []InspectMount `json:"Mounts"`
	Config          InspectConfig  `json:"Config"`
	NetworkSettings InspectNetwork `json:"NetworkSettings"`
	Budgie          InspectBudgie  `json:"Budgie"`
}

// InspectState is docker's State object.
type InspectState struct {
	Status     string `json:"Status"`
	Running    bool   `json:"Running"`
	Paused     bool   `json:"Paused"`
	Restarting bool   `json:"Restarting"`
	OOMKilled  bool   `json:"OOMKilled"`
	Dead       bool   `json:"Dead"`
	Pid        int    `json:"Pid"`
	ExitCode   int    `json:"ExitCode"`
	Error      string `json:"Error"`
	StartedAt  string `json:"StartedAt"`
	FinishedAt string `json:"FinishedAt"`
	// Health is set when the container has a health check and a keeper runs.
	Health *Health `json:"Health,omitempty"`
}

// InspectHost is the part of docker's HostConfig that Budgie fills.
type InspectHost struct {
	Memory        int64                `json:"Memory"`
	MemorySwap    int64                `json:"MemorySwap"`
	NanoCpus      int64                `json:"NanoCpus"`
	CPUShares     int64                `json:"CpuShares"`
	CPUQuota      int64                `json:"CpuQuota"`
	CPUPeriod     int64                `json:"CpuPeriod"`
	BlkioWeight   uint16               `json:"BlkioWeight"`
	PidsLimit     int64                `json:"PidsLimit"`
	RestartPolicy InspectRestartPolicy `json:"RestartPolicy"`
	NetworkMode   string               `json:"NetworkMode"`
	Binds         []string             `json:"Binds"`
}

// InspectRestartPolicy is docker's RestartPolicy object.
type InspectRestartPolicy struct {
	Name              string `json:"Name"`
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

// InspectMount is one element of docker's Mounts.
type InspectMount struct {
	Type        string `json:"Type"`
	Name        string `json:"Name,omitempty"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
}

// InspectConfig is the part of docker's Config that Budgie fills.
type InspectConfig struct {
	Hostname    string            `json:"Hostname"`
	User        string            `json:"User"`
	Env         []string          `json:"Env"`
	Cmd         []string          `json:"Cmd"`
	Entrypoint  []string          `json:"Entrypoint"`
	Image       string            `json:"Image"`
	WorkingDir  string            `json:"WorkingDir"`
	Labels      map[string]string `json:"Labels"`
	StopSignal  string            `json:"StopSignal"`
	StopTimeout int               `json:"StopTimeout"`
	Tty         bool              `json:"Tty"`
	OpenStdin   bool              `json:"OpenStdin"`
}

// InspectNetwork is docker's NetworkSettings, as far as Budgie has one.
type InspectNetwork struct {
	Ports    map[string][]InspectPortBinding `json:"Ports"`
	Networks map[string]InspectEndpoint      `json:"Networks"`
}

// InspectPortBinding is one host binding of a container port.
type InspectPortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// InspectEndpoint is a container's place on one network.
type InspectEndpoint struct {
	IPAddress   string `json:"IPAddress"`
	IPPrefixLen int    `json:"IPPrefixLen"`
	Gateway     string `json:"Gateway"`
	MacAddress  string `json:"MacAddress"`
	// IfName is the interface inside the container (Budgie's addition).
	IfName string `json:"IfName,omitempty"`
}

// InspectBudgie is Budgie's own section.
type InspectBudgie struct {
	BundlePath string        `json:"BundlePath"`
	Node       string        `json:"Node"`
	Namespace  string        `json:"Namespace"`
	LogPath    string        `json:"LogPath"`
	Spec       ContainerSpec `json:"Spec"`
	// Service and Replica name the replica group; Replica is 0 for a
	// container without replicas.
	Service string `json:"Service,omitempty"`
	Replica int    `json:"Replica,omitempty"`
	// LoadBalancer is the keeper proxy's view of the container's service:
	// its published ports with per-backend counters; nil when it publishes
	// no port or no keeper answers.
	LoadBalancer []ServiceStats `json:"LoadBalancer,omitempty"`
	// Damaged lists the Budgie labels that cannot be read back, each with
	// its decode error (State.Error sums them up); empty when sound.
	Damaged []LabelError `json:"Damaged,omitempty"`
}
