package kube

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/budgie-sh/budgie/models"
)

// service applies a Service to the one workload it selects: a
// LoadBalancer's ports are published on the host at their port (as k3s's
// ServiceLB does), a NodePort's at its nodePort (a random host port when
// it has none). A ClusterIP Service publishes nothing; it is taken when
// Budgie's own name resolution already does what it asks: named as the
// container, each port its target port.
func (pl *player) service(d *decoded, svc *corev1.Service) {
	w := pl.selected(d, svc.Spec.Selector)
	if w == nil {
		return
	}
	hostIP := svc.Annotations[AnnotationHostIP]
	if hostIP != "" && !validIP(hostIP) {
		d.problem("metadata.annotations", "write an IP address such as 127.0.0.1", "annotation %s: invalid address %q", AnnotationHostIP, hostIP)
		return
	}
	switch svc.Spec.Type {
	case "", corev1.ServiceTypeClusterIP:
		pl.clusterIP(d, svc, w)
		return
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort:
	default:
		d.problem("spec.type", "use LoadBalancer or NodePort to publish on the host", "Service type %s is not supported", svc.Spec.Type)
		return
	}
	if ip := svc.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
		d.problem("spec.clusterIP", "Budgie has no cluster addresses: leave clusterIP out", "clusterIP %s is not supported", ip)
	}
	for i, sp := range svc.Spec.Ports {
		pp := fmt.Sprintf("spec.ports[%d]", i)
		pm, ok := pl.servicePort(d, w, sp, pp)
		if !ok {
			continue
		}
		pm.HostIP = hostIP
		switch {
		case svc.Spec.Type == corev1.ServiceTypeLoadBalancer && sp.NodePort != 0:
			d.problem(pp+".nodePort", "Budgie publishes a LoadBalancer's port on the host: leave nodePort out", "nodePort on a LoadBalancer is not supported")
			continue
		case svc.Spec.Type == corev1.ServiceTypeLoadBalancer:
			pm.HostPort = uint16(sp.Port)
		case sp.NodePort < 0 || sp.NodePort > 65535:
			d.problem(pp+".nodePort", "", "port %d is out of range (1 to 65535)", sp.NodePort)
			continue
		default:
			pm.HostPort = uint16(sp.NodePort)
			if sp.Port != int32(pm.ContainerPort) {
				pl.warn(d, pp+".port", "port %d is the Service's cluster port: containers reach %s at %d, its container port, by name",
					sp.Port, w.spec.Name, pm.ContainerPort)
			}
		}
		w.origin[fmt.Sprintf("ports[%d]", len(w.spec.Ports))] = origin{d, pp}
		w.spec.Ports = append(w.spec.Ports, pm)
	}
}

// selected returns the one workload whose pods a Service's selector selects.
func (pl *player) selected(d *decoded, sel map[string]string) *workload {
	if len(sel) == 0 {
		d.problem("spec.selector", "select the pods of a Pod, Deployment or StatefulSet of the manifest", "a Service without a selector is not supported")
		return nil
	}
	var found []*workload
	for _, w := range append(pl.workloads, pl.refused...) {
		if matches(sel, w.podMeta.Labels) {
			found = append(found, w)
		}
	}
	if len(found) == 1 && slices.Contains(pl.refused, found[0]) {
		return nil // the workload's own problem is reported
	}
	switch len(found) {
	case 0:
		d.problem("spec.selector", "the selector must match the labels of a pod template in the manifest",
			"selects no Pod, Deployment or StatefulSet of the manifest")
		return nil
	case 1:
		return found[0]
	}
	names := make([]string, len(found))
	for i, w := range found {
		names[i] = w.spec.Name
	}
	sort.Strings(names)
	d.problem("spec.selector", "Budgie publishes a port for one container (or one container's replicas): give each its own Service",
		"selects %d workloads: %s", len(found), strings.Join(names, ", "))
	return nil
}

func matches(sel, labels map[string]string) bool {
	for k, v := range sel {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// servicePort resolves a Service port's protocol and target port.
func (pl *player) servicePort(d *decoded, w *workload, sp corev1.ServicePort, pp string) (models.PortMapping, bool) {
	proto, ok := protocol(sp.Protocol)
	if !ok {
		d.problem(pp+".protocol", "write TCP or UDP", "protocol %s is not supported", sp.Protocol)
		return models.PortMapping{}, false
	}
	if sp.Port < 1 || sp.Port > 65535 {
		d.problem(pp+".port", "", "port %d is out of range (1 to 65535)", sp.Port)
		return models.PortMapping{}, false
	}
	if ap := sp.AppProtocol; ap != nil {
		switch {
		case *ap == "http" && proto == "tcp":
			proto = "http"
		case *ap == "tcp" && proto == "tcp":
		default:
			d.problem(pp+".appProtocol", `Budgie balances "http" per request and anything else per connection: write http, or leave it out`,
				"appProtocol %s is not supported", *ap)
			return models.PortMapping{}, false
		}
	}
	target := int(sp.Port)
	switch t := sp.TargetPort; {
	case t.Type == intstr.String && t.StrVal != "":
		n, ok := w.named[t.StrVal]
		if !ok {
			d.problem(pp+".targetPort", "name one of the selected container's ports, or write the number",
				"container %s has no port named %q", w.spec.Name, t.StrVal)
			return models.PortMapping{}, false
		}
		target = int(n)
	case t.Type == intstr.Int && t.IntVal != 0:
		target = int(t.IntVal)
	}
	if target < 1 || target > 65535 {
		d.problem(pp+".targetPort", "", "port %d is out of range (1 to 65535)", target)
		return models.PortMapping{}, false
	}
	return models.PortMapping{ContainerPort: uint16(target), Protocol: proto}, true
}

// clusterIP takes a ClusterIP Service that asks for nothing more than
// what Budgie's networks give: the container answers to its name, at its
// container ports.
func (pl *player) clusterIP(d *decoded, svc *corev1.Service, w *workload) {
	if svc.Name != w.spec.Name {
		d.problem("metadata.name", fmt.Sprintf("containers reach %s by its own name; name the Service %s, or publish on the host with type: LoadBalancer",
			w.spec.Name, w.spec.Name), "a ClusterIP Service named other than the container it selects is not supported")
		return
	}
	for i, sp := range svc.Spec.Ports {
		pp := fmt.Sprintf("spec.ports[%d]", i)
		pm, ok := pl.servicePort(d, w, sp, pp)
		if ok && int32(pm.ContainerPort) != sp.Port {
			d.problem(pp+".port", fmt.Sprintf("containers reach %s at its container port %d: make port and targetPort the same", w.spec.Name, pm.ContainerPort),
				"a ClusterIP port other than its target port is not supported")
		}
	}
}
