package runtime

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Inspect returns the container in the shape of `docker inspect`, read from
// the container record, its labels, its OCI spec and its task.
func (r *Runtime) Inspect(ctx context.Context, ref string) (models.Inspect, error) {
	c, cc, err := r.load(ctx, ref)
	if err != nil {
		return models.Inspect{}, err
	}
	spec, err := cc.Spec(r.ns(ctx))
	if err != nil {
		return models.Inspect{}, fmt.Errorf("inspect %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	in := models.Inspect{
		ID:           c.ID,
		Created:      timeString(c.Created),
		Image:        c.Image,
		Name:         "/" + c.Name,
		RestartCount: c.RestartCount,
		State: models.InspectState{
			Status:     string(c.State),
			Running:    c.State == models.StateRunning,
			Paused:     c.State == models.StatePaused,
			Restarting: c.State == models.StateRestarting,
			Pid:        int(c.Pid),
			ExitCode:   c.ExitCode,
			StartedAt:  timeString(c.StartedAt),
			FinishedAt: timeString(c.FinishedAt),
		},
		HostConfig: hostConfig(c.Spec),
		Mounts:     r.inspectMounts(c.Spec),
		Config: models.InspectConfig{
			Hostname:    spec.Hostname,
			User:        c.Spec.User,
			Image:       c.Image,
			WorkingDir:  spec.Process.Cwd,
			Labels:      c.Labels,
			StopSignal:  c.Spec.StopSignal,
			StopTimeout: int(c.Spec.StopTimeout / time.Second),
			Tty:         c.Spec.Tty,
			OpenStdin:   c.Spec.StdinOpen,
			Entrypoint:  c.Spec.Command,
			Cmd:         c.Spec.Args,
		},
		NetworkSettings: models.InspectNetwork{
			Ports:    map[string][]models.InspectPortBinding{},
			Networks: networkSettings(c),
		},
		Budgie: models.InspectBudgie{
			BundlePath: c.BundlePath,
			Node:       c.Node,
			Namespace:  r.opts.Namespace,
			LogPath:    filepath.Join(r.LogDir(c.ID), "json.log"),
			Spec:       c.Spec,
			Service:    c.Service,
			Replica:    c.Replica,
		},
	}
	if spec.Process != nil {
		in.Config.Env = spec.Process.Env
		if len(spec.Process.Args) > 0 {
			in.Path, in.Args = spec.Process.Args[0], spec.Process.Args[1:]
		}
	}
	in.State.Health = r.healthLog(ctx, c)
	in.State.Error, in.Budgie.Damaged = damageError(c.Damaged), c.Damaged
	if in.Config.StopSignal == "" {
		in.Config.StopSignal = "SIGTERM"
	}
	if in.Config.StopTimeout == 0 {
		in.Config.StopTimeout = int(DefaultStopTimeout / time.Second)
	}
	for _, p := range c.Ports {
		key := strconv.Itoa(int(p.ContainerPort)) + "/" + orDefault(p.Protocol, "tcp")
		in.NetworkSettings.Ports[key] = append(in.NetworkSettings.Ports[key],
			models.InspectPortBinding{HostIP: p.HostIP, HostPort: strconv.Itoa(int(p.HostPort))})
	}
	return in, nil
}

// damageError is docker's State.Error for a container with damaged labels:
// each label with its decode error; "" for a sound container.
func damageError(damaged []models.LabelError) string {
	parts := make([]string, len(damaged))
	for i, d := range damaged {
		parts[i] = "damaged label " + d.Label + ": " + d.Error
	}
	return strings.Join(parts, "; ")
}

func hostConfig(s models.ContainerSpec) models.InspectHost {
	res := s.Resources
	h := models.InspectHost{
		Memory:      res.Memory,
		MemorySwap:  res.MemorySwap,
		NanoCpus:    res.NanoCPUs(),
		CPUShares:   int64(res.CPUShares),
		CPUQuota:    res.CPUQuota,
		CPUPeriod:   int64(res.CPUPeriod),
		BlkioWeight: res.BlkioWeight,
		PidsLimit:   res.PidsLimit,
		RestartPolicy: models.InspectRestartPolicy{
			Name:              orDefault(s.RestartPolicy.Name, models.RestartNo),
			MaximumRetryCount: s.RestartPolicy.MaxRetries,
		},
		NetworkMode: "host",
		Binds:       []string{},
	}
	if res.CPUQuota > 0 && h.CPUPeriod == 0 {
		h.CPUPeriod = 100000
	}
	for _, v := range s.Volumes {
		if v.Kind == models.VolumeBind {
			mode := "rw"
			if v.ReadOnly {
				mode = "ro"
			}
			h.Binds = append(h.Binds, v.Source+":"+v.Target+":"+mode)
		}
	}
	return h
}

func (r *Runtime) inspectMounts(s models.ContainerSpec) []models.InspectMount {
	out := []models.InspectMount{}
	for _, v := range s.Volumes {
		m := models.InspectMount{Type: string(v.Kind), Source: v.Source, Destination: v.Target, Mode: "rw", RW: !v.ReadOnly}
		if v.ReadOnly {
			m.Mode = "ro"
		}
		if v.Kind == models.VolumeNamed {
			m.Name, m.Source = v.Source, r.VolumeDir(v.Source)
		}
		out = append(out, m)
	}
	return out
}

// timeString formats t as docker does, with docker's zero time for "never".
func timeString(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// networkSettings is docker's NetworkSettings.Networks: the running task's
// endpoints, or just the names of the networks the container joins.
func networkSettings(c models.Container) map[string]models.InspectEndpoint {
	out := map[string]models.InspectEndpoint{}
	if UsesHostNetwork(c.Spec) {
		out[models.HostNetwork] = models.InspectEndpoint{}
		return out
	}
	for _, n := range networksOf(c.Spec) {
		out[n] = models.InspectEndpoint{}
	}
	for _, ep := range c.Endpoints {
		out[ep.Network] = models.InspectEndpoint{IPAddress: ep.IP, IPPrefixLen: ep.PrefixLen, Gateway: ep.Gateway, MacAddress: ep.MAC, IfName: ep.IfName}
	}
	return out
}
