package compose

import (
	"reflect"
	"sort"
	"strings"
)

// rule says what becomes of one field of compose-go's types.ServiceConfig.
type rule struct {
	// mapped fields are carried into the bundle (or honoured another way,
	// as docs/interop.md says); the converter consumes them.
	mapped bool
	// hint is shown when a refused field is set.
	hint string
}

// Hints shared by several refused fields.
const (
	hintGeneric    = "Budgie has no equivalent: remove it, or convert with --ignore-unsupported to leave it out"
	hintSecurity   = "every Budgie container gets one fixed set of capabilities, seccomp profile and namespaces (docs/bundle.md#security-defaults)"
	hintTerminal   = "a container's main process gets no terminal and no stdin; run it detached and use: budgie exec -it NAME sh"
	hintLogs       = "Budgie keeps every container's output itself (budgie logs; logs.max_size in budgie.yaml)"
	hintNames      = "containers on a network reach each other by name through /etc/hosts; there are no per-container DNS or host entries"
	hintCPU        = "Budgie limits CPU with cpus, cpu_shares, cpu_quota and cpu_period"
	hintMemory     = "Budgie limits memory with mem_limit (or deploy.resources.limits.memory) and memswap_limit"
	hintBuild      = "Budgie runs images but does not build them: build the image (docker build, then budgie load or push it to a registry) and name it in image:"
	hintWindows    = "a Windows-only option"
	hintLifecycle  = "Budgie runs no lifecycle hooks: run the command in the entrypoint, or with budgie exec"
	hintSwarm      = "a swarm option; Budgie runs containers on one node"
	hintDevices    = "Budgie gives containers no host devices"
	hintNamespaces = "every Budgie container has its own namespaces"
)

// serviceRules is every field of types.ServiceConfig, by its YAML name
// (the Go name for fields YAML never sets). TestServiceRulesCoverEveryField
// fails when compose-go grows a field that is not here.
var serviceRules = map[string]rule{
	"name":                {mapped: true}, // the service's key: the container's name
	"profiles":            {mapped: true}, // compose-go leaves out services of inactive profiles
	"annotations":         {hint: "OCI annotations are not set; use labels"},
	"attach":              {hint: "every container's output is kept; read it with budgie logs"},
	"build":               {hint: hintBuild},
	"develop":             {hint: "compose watch is not supported: rebuild and run again"},
	"blkio_config":        {mapped: true}, // weight only
	"cap_add":             {hint: hintSecurity},
	"cap_drop":            {hint: hintSecurity},
	"cgroup_parent":       {hint: "Budgie places every container in its own cgroup"},
	"cgroup":              {hint: hintNamespaces},
	"cpu_count":           {hint: hintWindows},
	"cpu_percent":         {hint: hintWindows},
	"cpu_period":          {mapped: true},
	"cpu_quota":           {mapped: true},
	"cpu_rt_period":       {hint: hintCPU},
	"cpu_rt_runtime":      {hint: hintCPU},
	"cpus":                {mapped: true},
	"cpuset":              {hint: hintCPU},
	"cpu_shares":          {mapped: true},
	"command":             {mapped: true},
	"configs":             {mapped: true}, // file configs: read-only bind mounts
	"container_name":      {mapped: true}, // only when it is the service's name
	"credential_spec":     {hint: hintWindows},
	"depends_on":          {mapped: true},
	"deploy":              {mapped: true}, // replicas, resources.limits, restart_policy
	"device_cgroup_rules": {hint: hintDevices},
	"devices":             {hint: hintDevices},
	"dns":                 {hint: hintNames},
	"dns_opt":             {hint: hintNames},
	"dns_search":          {hint: hintNames},
	"dockerfile":          {hint: hintBuild},
	"domainname":          {hint: "set a dotted hostname instead"},
	"entrypoint":          {mapped: true},
	"provider":            {hint: "provider services are not supported"},
	"environment":         {mapped: true},
	"env_file":            {mapped: true}, // compose-go reads them into environment
	"expose":              {mapped: true}, // containers on a network reach every port already
	"extends":             {mapped: true}, // compose-go applies it
	"external_links":      {hint: hintNames},
	"extra_hosts":         {hint: hintNames},
	"group_add":           {hint: "set user: uid:gid instead"},
	"gpus":                {hint: hintDevices},
	"hostname":            {mapped: true},
	"healthcheck":         {mapped: true},
	"image":               {mapped: true},
	"init":                {hint: "Budgie runs no init process: the entrypoint is process 1 (trap SIGTERM in a shell entrypoint)"},
	"ipc":                 {hint: hintNamespaces},
	"isolation":           {hint: hintWindows},
	"labels":              {mapped: true},
	"label_file":          {mapped: true}, // compose-go reads them into labels
	"CustomLabels":        {hint: "labels set by a program embedding compose-go are not supported"},
	"links":               {hint: "containers on a shared network reach each other by name: use depends_on for the order and the service name as host name"},
	"logging":             {hint: hintLogs},
	"log_driver":          {hint: hintLogs},
	"log_opt":             {hint: hintLogs},
	"mem_limit":           {mapped: true},
	"mem_reservation":     {hint: hintMemory},
	"memswap_limit":       {mapped: true},
	"mem_swappiness":      {hint: hintMemory},
	"mac_address":         {hint: "addresses are given by the network"},
	"models":              {hint: "AI models are not supported"},
	"net":                 {hint: "use network_mode: host or none, or networks:"},
	"network_mode":        {mapped: true}, // host, none, bridge
	"networks":            {mapped: true},
	"oom_kill_disable":    {hint: hintMemory},
	"oom_score_adj":       {hint: hintMemory},
	"pid":                 {hint: hintNamespaces},
	"pids_limit":          {mapped: true},
	"platform":            {mapped: true}, // only the node's own platform
	"ports":               {mapped: true},
	"privileged":          {hint: hintSecurity},
	"pull_policy":         {mapped: true}, // missing (Budgie's only policy)
	"pull_refresh_after":  {hint: "Budgie pulls an image only when it is missing; pull it again with budgie pull"},
	"read_only":           {hint: "the root file system is always writable; mount volumes :ro instead"},
	"restart":             {mapped: true},
	"runtime":             {hint: "Budgie runs every container with runc"},
	"scale":               {mapped: true},
	"secrets":             {mapped: true},
	"security_opt":        {hint: hintSecurity},
	"shm_size":            {hint: "/dev/shm has the runtime's default size"},
	"stdin_open":          {mapped: true}, // when the bundle has stdin_open
	"stop_grace_period":   {mapped: true},
	"stop_signal":         {mapped: true},
	"storage_opt":         {hint: "containers use the snapshotter's defaults"},
	"sysctls":             {hint: hintSecurity},
	"tmpfs":               {hint: "mount a named volume instead"},
	"tty":                 {mapped: true}, // when the bundle has tty
	"umask":               {hint: "processes start with the runtime's umask; set it in the entrypoint (umask 027; exec …)"},
	"ulimits":             {hint: "containers run with the runtime's default limits; pids_limit is supported"},
	"use_api_socket":      {hint: "Budgie exposes no engine socket to containers"},
	"user":                {mapped: true},
	"userns_mode":         {hint: hintNamespaces},
	"uts":                 {hint: hintNamespaces},
	"volume_driver":       {hint: "named volumes are directories on the node"},
	"volumes":             {mapped: true},
	"volumes_from":        {hint: "mount the same named volume in both services"},
	"working_dir":         {mapped: true},
	"pre_start":           {hint: hintLifecycle},
	"post_start":          {hint: hintLifecycle},
	"pre_stop":            {hint: hintLifecycle},
}

// field is one compose field of a struct type: its name and where it is,
// through the embedded structs YAML inlines (ServiceConfig's
// ContainerSpec and WorkloadSpec).
type field struct {
	name  string
	index []int
}

// fieldsOf lists the compose fields of the struct type t.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && strings.Contains(f.Tag.Get("yaml"), "inline") {
			for _, sub := range fieldsOf(f.Type) {
				out = append(out, field{name: sub.name, index: append([]int{i}, sub.index...)})
			}
			continue
		}
		if name := fieldName(f); name != "" {
			out = append(out, field{name: name, index: []int{i}})
		}
	}
	return out
}

// fieldName is the name a struct field goes by in compose files: its YAML
// name, or its Go name when YAML never sets it (yaml:"-"). It is "" for
// the x- extensions, which compose and Budgie both ignore, and for
// unexported fields.
func fieldName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch {
	case strings.HasPrefix(tag, "#"):
		return ""
	case tag == "" && strings.Contains(f.Tag.Get("yaml"), "inline"):
		return ""
	case tag == "-" || tag == "":
		return f.Name
	}
	return tag
}

// leftovers returns the compose names of the fields of the struct v (or
// pointer to one) that are set, sorted: what a mapper did not consume. An
// empty list or map counts as not set.
func leftovers(v any) []string {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	var out []string
	for _, f := range fieldsOf(rv.Type()) {
		if isSet(rv.FieldByIndex(f.index)) {
			out = append(out, f.name)
		}
	}
	sort.Strings(out)
	return out
}

// isSet reports whether a field holds something: a non-empty list or map,
// a non-nil pointer, any other non-zero value.
func isSet(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() > 0
	}
	return !v.IsZero()
}
