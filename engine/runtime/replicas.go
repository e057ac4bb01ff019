package runtime

import (
	"strconv"

	"github.com/budgie-sh/budgie/models"
)

// ReplicaName is the name of replica i (1…N) of service: "web-2".
func ReplicaName(service string, i int) string { return service + "-" + strconv.Itoa(i) }

// ReplicaSpec returns the spec of replica i of spec: its own name and
// hostname, everything else shared.
func ReplicaSpec(spec models.ContainerSpec, i int) models.ContainerSpec {
	r := spec
	r.Name = ReplicaName(spec.Name, i)
	if spec.Hostname == "" || spec.Hostname == spec.Name {
		r.Hostname = r.Name
	}
	return r
}

// ReplicaCount is how many containers spec asks for: replicas.count, or 1.
func ReplicaCount(spec models.ContainerSpec) int {
	if spec.Replicas == nil || spec.Replicas.Count < 1 {
		return 1
	}
	return spec.Replicas.Count
}
