package compose

import (
	"strconv"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/models"
)

// Docker's health check defaults, which are the bundle's too.
const (
	defaultInterval = 30 * time.Second
	defaultTimeout  = 30 * time.Second
	defaultRetries  = 3
	// minWait is the bundle's default depends_on timeout.
	minWait = 60 * time.Second
)

// health maps healthcheck: test ["CMD", …] runs as a list, ["CMD-SHELL",
// "…"] (or a string) with sh -c, as Docker runs them; disable: true or
// ["NONE"] is no check.
func (k *container) health(s types.ServiceConfig, rest *types.ServiceConfig) {
	rest.HealthCheck = nil
	if s.HealthCheck == nil {
		return
	}
	h := *s.HealthCheck
	field := k.svc + ".healthcheck"
	if h.Disable || (len(h.Test) > 0 && h.Test[0] == "NONE") {
		return
	}
	m := mapping()
	put := func(key string, v *yaml.Node, from string) {
		m.Content = append(m.Content, str(key), v)
		k.origin("health."+key, "healthcheck."+from)
	}
	switch {
	case len(h.Test) == 0:
		k.c.refuse(field+".test", "write the test: Budgie does not run the image's HEALTHCHECK", "a health check without test: is not supported")
		return
	case h.Test[0] == "CMD" && len(h.Test) > 1:
		put("cmd", flowList(h.Test[1:]), "test")
	case h.Test[0] == "CMD-SHELL" && len(h.Test) == 2:
		put("cmd", str(h.Test[1]), "test")
	default:
		k.c.fail(field+".test", `write ["CMD", "prog", "arg"…], ["CMD-SHELL", "command"] or a string`, "invalid test %q", []string(h.Test))
		return
	}
	dur := func(key, from string, d *types.Duration) {
		if d != nil && *d != 0 {
			put(key, str(time.Duration(*d).String()), from)
		}
	}
	dur("interval", "interval", h.Interval)
	dur("timeout", "timeout", h.Timeout)
	if h.Retries != nil && *h.Retries != 0 {
		put("retries", plain(strconv.FormatUint(*h.Retries, 10)), "retries")
	}
	dur("start_period", "start_period", h.StartPeriod)
	h.Test, h.Interval, h.Timeout, h.Retries, h.StartPeriod, h.Disable = nil, nil, nil, nil, nil, false
	k.c.refuseRest(field, h, "Budgie probes every interval from the start (start_period still applies)")
	k.set("health", m, "healthcheck")
}

// dependsOn maps depends_on's conditions: service_started, service_healthy
// and service_completed_successfully are the bundle's started, healthy and
// completed_successfully. A healthy wait gets a timeout long enough for
// the dependency's check to fail for good (compose waits as long), at
// least the bundle's default.
func (k *container) dependsOn(s types.ServiceConfig, rest *types.ServiceConfig) {
	rest.DependsOn = nil
	if len(s.DependsOn) == 0 {
		return
	}
	m := mapping()
	for _, name := range sortedKeys(s.DependsOn) {
		d := s.DependsOn[name]
		field := k.svc + ".depends_on." + name
		cond := ""
		switch d.Condition {
		case types.ServiceConditionStarted, "":
			cond = models.ConditionStarted
		case types.ServiceConditionHealthy:
			cond = models.ConditionHealthy
		case types.ServiceConditionCompletedSuccessfully:
			cond = models.ConditionCompletedSuccessfully
		default:
			k.c.refuse(field+".condition", "the conditions are service_started, service_healthy and service_completed_successfully",
				"condition %q is not supported", d.Condition)
			continue
		}
		if d.Restart {
			k.c.refuse(field+".restart", "Budgie does not restart a container when what it depends on restarts", "restart: true is not supported")
		}
		if !d.Required {
			k.c.refuse(field+".required", "Budgie always waits for what a container depends on", "required: false is not supported")
		}
		d.Condition, d.Restart, d.Required = "", false, false
		k.c.refuseRest(field, d, "")
		dep := mapping()
		dep.Content = append(dep.Content, str("condition"), str(cond))
		if dh := k.c.src.Project.Services[name].HealthCheck; cond == models.ConditionHealthy && !hasCheck(dh) {
			k.c.fail(field+".condition", "give "+name+" a healthcheck: with a test:, or wait for service_started",
				"%s has no health check to wait for", name)
		}
		if cond == models.ConditionHealthy {
			if wait := healthWait(k.c.src.Project.Services[name].HealthCheck); wait > minWait {
				dep.Content = append(dep.Content, str("timeout"), str(wait.String()))
			}
		}
		m.Content = append(m.Content, str(name), dep)
		k.origin("depends_on."+name, "depends_on."+name)
	}
	if len(m.Content) > 0 {
		k.set("depends_on", m, "depends_on")
	}
}

// healthWait is how long a health check may take to turn unhealthy for
// good: its start period, then retries failures of an interval plus a
// timeout each, and one more interval.
func healthWait(h *types.HealthCheckConfig) time.Duration {
	interval, timeout, retries, start := defaultInterval, defaultTimeout, uint64(defaultRetries), time.Duration(0)
	if h != nil {
		if h.Interval != nil && *h.Interval > 0 {
			interval = time.Duration(*h.Interval)
		}
		if h.Timeout != nil && *h.Timeout > 0 {
			timeout = time.Duration(*h.Timeout)
		}
		if h.Retries != nil && *h.Retries > 0 {
			retries = *h.Retries
		}
		if h.StartPeriod != nil {
			start = time.Duration(*h.StartPeriod)
		}
	}
	retries = min(retries, 1000)
	return min(start+time.Duration(retries)*(interval+timeout)+interval, 24*time.Hour)
}

// hasCheck reports whether a health check runs a test.
func hasCheck(h *types.HealthCheckConfig) bool {
	return h != nil && !h.Disable && len(h.Test) > 0 && h.Test[0] != "NONE"
}
