package runtime

import (
	"context"
	"encoding/json"
	"fmt"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/contrib/seccomp"
	"github.com/containerd/containerd/oci"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// specOpts turns a bundle spec into OCI spec options, with Docker's rules
// for entrypoint and cmd.
func (r *Runtime) specOpts(ctx context.Context, id string, spec models.ContainerSpec, image containerd.Image) ([]oci.SpecOpts, error) {
	ic, err := imageConfig(ctx, image)
	if err != nil {
		return nil, err
	}
	args := processArgs(ic, spec)
	if len(args) == 0 {
		return nil, fmt.Errorf("container %s has no command: image %s sets none and the bundle sets neither command nor args: %w",
			spec.Name, spec.Image, errdefs.ErrInvalid)
	}
	hostname := spec.Hostname
	if hostname == "" {
		hostname = spec.Name
	}
	opts := []oci.SpecOpts{
		oci.WithImageConfig(image),
		oci.WithProcessArgs(args...),
		oci.WithHostname(hostname),
		oci.WithHostResolvconf,
		// Capabilities first: the seccomp profile allows some system calls
		// only to processes whose bounding set holds the matching capability.
		oci.WithCapabilities(defaultCapabilities),
		seccomp.WithDefaultProfile(),
	}
	opts = append(opts, ttyOpts(spec)...) // after the image's env, before the bundle's
	if r.hostNetwork(spec) {
		opts = append(opts, oci.WithHostNamespace(specs.NetworkNamespace), oci.WithHostHostsFile)
	} else {
		// A new network namespace: runc makes it, and the runtime joins it
		// to the container's networks between task create and start; or,
		// for a container on networks, Budgie makes and pins it first and
		// joins it while the task is created (netns.go).
		opts = append(opts, oci.WithMounts([]specs.Mount{{
			Type: "bind", Source: r.HostsPath(id), Destination: "/etc/hosts", Options: []string{"rbind", "rw"},
		}}))
		if len(networksOf(spec)) > 0 && r.pinsNetNS() {
			opts = append(opts, r.pinnedNetNSOpt(id)) // netns.go: joined while the task is created
		}
	}
	if len(spec.Env) > 0 {
		opts = append(opts, oci.WithEnv(spec.Env))
	}
	if spec.Workdir != "" {
		opts = append(opts, oci.WithProcessCwd(spec.Workdir))
	}
	if spec.User != "" {
		opts = append(opts, oci.WithUser(spec.User))
	}
	opts = append(opts, oci.WithMounts(r.mounts(spec)))
	opts = append(opts, r.secretsSpecOpt(spec))
	opts = append(opts, resourceOpts(spec.Resources)...)
	return opts, nil
}

// processArgs applies Docker's rule: a bundle command replaces the image's
// entrypoint and clears its cmd; bundle args replace the cmd.
func processArgs(ic ocispec.ImageConfig, spec models.ContainerSpec) []string {
	entry, cmd := ic.Entrypoint, ic.Cmd
	if len(spec.Command) > 0 {
		entry, cmd = spec.Command, nil
	}
	if len(spec.Args) > 0 {
		cmd = spec.Args
	}
	return append(append([]string{}, entry...), cmd...)
}

func imageConfig(ctx context.Context, image containerd.Image) (ocispec.ImageConfig, error) {
	desc, err := image.Config(ctx)
	if err != nil {
		return ocispec.ImageConfig{}, fmt.Errorf("read config of image %s: %w", image.Name(), errdefs.FromContainerd(err))
	}
	b, err := content.ReadBlob(ctx, image.ContentStore(), desc)
	if err != nil {
		return ocispec.ImageConfig{}, fmt.Errorf("read config of image %s: %w", image.Name(), errdefs.FromContainerd(err))
	}
	var img ocispec.Image
	if err := json.Unmarshal(b, &img); err != nil {
		return ocispec.ImageConfig{}, fmt.Errorf("parse config of image %s: %w", image.Name(), err)
	}
	return img.Config, nil
}

// defaultCapabilities is every container's capability set (bounding,
// effective and permitted), Podman's default: Docker's without MKNOD,
// NET_RAW and AUDIT_WRITE. A container cannot create device nodes or open
// raw sockets (so ping, which needs one, fails inside containers).
var defaultCapabilities = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP",
	"CAP_SETGID",
	"CAP_SETPCAP",
	"CAP_SETUID",
	"CAP_SYS_CHROOT",
}

// mounts binds volumes. Named volumes are nodev and nosuid, so that a device
// node or setuid binary that reached a volume (from the host or a replica's
// sync) does not work inside the container. The flags hold for this mount
// only: on the host, no MKNOD (defaultCapabilities) and the 0700 volumes
// directory (secureVolumesDir) protect root's tools and local users. Bind
// mounts of host paths keep the host's own flags, as with Docker: the
// bundle's author chose the path.
func (r *Runtime) mounts(spec models.ContainerSpec) []specs.Mount {
	var out []specs.Mount
	for _, v := range spec.Volumes {
		mode := "rw"
		if v.ReadOnly {
			mode = "ro"
		}
		src, options := v.Source, []string{"rbind", mode}
		if v.Kind == models.VolumeNamed {
			src = r.VolumeDir(v.Source)
			options = append(options, "nosuid", "nodev")
		}
		out = append(out, specs.Mount{Type: "bind", Source: src, Destination: v.Target, Options: options})
	}
	return out
}

func resourceOpts(res models.Resources) []oci.SpecOpts {
	var opts []oci.SpecOpts
	if res.Memory > 0 {
		opts = append(opts, oci.WithMemoryLimit(uint64(res.Memory)))
	}
	if res.MemorySwap != 0 {
		opts = append(opts, oci.WithMemorySwap(res.MemorySwap))
	}
	if res.CPUShares > 0 {
		opts = append(opts, oci.WithCPUShares(res.CPUShares))
	}
	if res.CPUQuota > 0 {
		period := res.CPUPeriod
		if period == 0 {
			period = 100000
		}
		opts = append(opts, oci.WithCPUCFS(res.CPUQuota, period))
	}
	if res.PidsLimit > 0 {
		opts = append(opts, oci.WithPidsLimit(res.PidsLimit))
	}
	if res.BlkioWeight > 0 {
		w := res.BlkioWeight
		opts = append(opts, func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
			if s.Linux == nil {
				s.Linux = &specs.Linux{}
			}
			if s.Linux.Resources == nil {
				s.Linux.Resources = &specs.LinuxResources{}
			}
			if s.Linux.Resources.BlockIO == nil {
				s.Linux.Resources.BlockIO = &specs.LinuxBlockIO{}
			}
			s.Linux.Resources.BlockIO.Weight = &w
			return nil
		})
	}
	return opts
}
