// Package proxy is the keeper's port publisher and load balancer. Each
// published port of a service is a listener the keeper owns: a TCP proxy
// (balanced per connection), an HTTP reverse proxy (balanced per request,
// keep-alive to the backends) or a UDP forwarder (balanced per client
// session). Backends are the service's running replicas; unhealthy ones
// get no new traffic, and a backend that refuses a connection is retried
// on the next one. Binding happens in Publish, so a taken port is reported
// at once, naming the process (or Budgie service) that holds it.
package proxy
