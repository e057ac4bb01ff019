package testkit

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"time"
)

// BusyboxPath is where Debian's busybox-static installs its binary.
const BusyboxPath = "/bin/busybox"

// Applets are the busybox applets linked into test images.
var Applets = []string{
	"sh", "ash", "cat", "echo", "env", "false", "grep", "head", "hostname", "httpd", "id", "kill",
	"ls", "mkdir", "nc", "printf", "ps", "pwd", "rm", "seq", "sleep", "tail", "test", "touch",
	"trap", "true", "wc", "wget", "whoami", "yes", "date", "dd", "sync", "tr", "sed", "awk", "stat", "stty", "sort",
	"timeout", "ip", "ping",
}

// ImageOptions describe a test image built from busybox-static.
type ImageOptions struct {
	// Ref is the image name written into the archive's index
	// (org.opencontainers.image.ref.name and io.containerd.image.name).
	Ref string
	// Cmd is the image's default command; nil means ["sh"].
	Cmd []string
	// Env is the image's environment; nil means a PATH only.
	Env []string
	// WorkingDir is the image's working directory; empty means "/".
	WorkingDir string
	// Files are extra files (path → content) added to the root file system.
	Files map[string]string
	// Busybox is the busybox binary to copy; empty means BusyboxPath.
	Busybox string
}

// WriteBusyboxArchive writes an OCI image-layout tar of a small image whose
// root file system is busybox-static plus applet links, /etc/passwd and
// /etc/group (root and nobody), /tmp and the extra files. It downloads
// nothing: Docker Hub is out of reach, so test and demo images are built.
func WriteBusyboxArchive(w io.Writer, opts ImageOptions) error {
	layer, diffID, err := busyboxLayer(opts)
	if err != nil {
		return err
	}
	cmd := opts.Cmd
	if cmd == nil {
		cmd = []string{"sh"}
	}
	env := opts.Env
	if env == nil {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	wd := opts.WorkingDir
	if wd == "" {
		wd = "/"
	}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	config, _ := json.Marshal(map[string]any{
		"created":      created,
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Cmd": cmd, "Env": env, "WorkingDir": wd},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{diffID}},
		"history":      []map[string]any{{"created": created, "created_by": "budgie testkit: busybox-static"}},
	})
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        descriptor("application/vnd.oci.image.config.v1+json", config),
		"layers":        []any{descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)},
	})
	md := descriptor("application/vnd.oci.image.manifest.v1+json", manifest)
	md["annotations"] = map[string]string{
		"io.containerd.image.name":          opts.Ref,
		"org.opencontainers.image.ref.name": refTag(opts.Ref),
	}
	md["platform"] = map[string]string{"architecture": "amd64", "os": "linux"}
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{md}})

	tw := tar.NewWriter(w)
	files := []struct {
		name string
		data []byte
	}{
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{"index.json", index},
		{blobPath(config), config},
		{blobPath(manifest), manifest},
		{blobPath(layer), layer},
	}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: created}); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: created}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

func busyboxLayer(opts ImageOptions) (gz []byte, diffID string, err error) {
	bbPath := opts.Busybox
	if bbPath == "" {
		bbPath = BusyboxPath
	}
	bb, err := os.ReadFile(bbPath)
	if err != nil {
		return nil, "", fmt.Errorf("read busybox-static (try: apt-get install busybox-static): %w", err)
	}
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	mt := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: mode, ModTime: mt})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), ModTime: mt}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, d := range []string{"bin", "etc", "dev", "proc", "sys", "root", "var", "var/www", "usr", "usr/bin", "run"} {
		if err := dir(d, 0o755); err != nil {
			return nil, "", err
		}
	}
	if err := dir("tmp", 0o1777); err != nil {
		return nil, "", err
	}
	if err := file("bin/busybox", 0o755, bb); err != nil {
		return nil, "", err
	}
	for _, a := range Applets {
		if err := tw.WriteHeader(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777, ModTime: mt}); err != nil {
			return nil, "", err
		}
	}
	if err := file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")); err != nil {
		return nil, "", err
	}
	if err := file("etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n")); err != nil {
		return nil, "", err
	}
	for name, content := range opts.Files {
		name = path.Clean("/" + name)[1:]
		if err := file(name, 0o755, []byte(content)); err != nil {
			return nil, "", err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(raw.Bytes())
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	return out.Bytes(), "sha256:" + hex.EncodeToString(sum[:]), nil
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func descriptor(mediaType string, b []byte) map[string]any {
	return map[string]any{"mediaType": mediaType, "digest": digestOf(b), "size": len(b)}
}

func blobPath(b []byte) string {
	return "blobs/sha256/" + digestOf(b)[len("sha256:"):]
}

// refTag returns the tag part of ref ("latest" when there is none).
func refTag(ref string) string {
	slash := -1
	for i := len(ref) - 1; i >= 0; i-- {
		if ref[i] == '/' {
			slash = i
			break
		}
		if ref[i] == ':' {
			return ref[i+1:]
		}
	}
	_ = slash
	return "latest"
}
