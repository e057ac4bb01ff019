//go:build integration

package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// cpBudgie runs budgie with stdin and returns its result and raw stdout.
func cpBudgie(t *testing.T, stdin io.Reader, args ...string) (result, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--headless"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, testEnv()...)
	cmd.Dir, cmd.Stdin = t.TempDir(), stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("budgie %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}, out.Bytes()
}

func cpReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func cpTarEntries(t *testing.T, b []byte) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("tar: %v", err)
		}
		names = append(names, h.Name)
	}
	sort.Strings(names)
	return names
}

// startCpContainer runs a container holding /data/a.txt, /data/sub/b.txt,
// /etc/cpmark and two hostile links: /evil -> /etc and /up -> ../../../etc.
func startCpContainer(t *testing.T) string {
	t.Helper()
	path, name := writeBundle(t, "args: [sh, -c, \"trap 'exit 0' TERM; while :; do sleep 0.2; done\"]\n")
	must(t, "run", path)
	must(t, "exec", name, "sh", "-c", "mkdir -p /data/sub && echo hi > /data/a.txt && echo deep > /data/sub/b.txt && "+
		"echo container-mark > /etc/cpmark && ln -s /etc /evil && ln -s ../../../../../../etc /up")
	return name
}

func TestCLICpFromContainer(t *testing.T) {
	name := startCpContainer(t)
	host := t.TempDir()

	must(t, "cp", name+":/data/a.txt", host+"/")
	if got := cpReadFile(t, filepath.Join(host, "a.txt")); got != "hi\n" {
		t.Errorf("file into a directory: %q", got)
	}
	must(t, "cp", name+":/data/a.txt", filepath.Join(host, "renamed.txt"))
	if got := cpReadFile(t, filepath.Join(host, "renamed.txt")); got != "hi\n" {
		t.Errorf("file to a new name: %q", got)
	}
	must(t, "cp", name+":/data", filepath.Join(host, "copy"))
	if got := cpReadFile(t, filepath.Join(host, "copy", "sub", "b.txt")); got != "deep\n" {
		t.Errorf("directory to a new name: %q", got)
	}
	must(t, "cp", name+":/data", host)
	if got := cpReadFile(t, filepath.Join(host, "data", "a.txt")); got != "hi\n" {
		t.Errorf("directory into a directory: %q", got)
	}
	r, raw := cpBudgie(t, nil, "cp", name+":/data", "-")
	if r.code != 0 {
		t.Fatalf("cp to -: exit %d %s", r.code, r.stderr)
	}
	if got := strings.Join(cpTarEntries(t, raw), " "); got != "data/ data/a.txt data/sub/ data/sub/b.txt" {
		t.Errorf("tar on stdout: %s", got)
	}
	// Links in the container resolve inside it: /evil/cpmark is the
	// container's /etc/cpmark, and a host-only file is not found.
	must(t, "cp", name+":/evil/cpmark", filepath.Join(host, "mark"))
	if got := cpReadFile(t, filepath.Join(host, "mark")); got != "container-mark\n" {
		t.Errorf("cp through /evil read %q, want the container's file", got)
	}
	if r := budgie(t, "cp", name+":/up/debian_version", filepath.Join(host, "dv")); r.code != 3 {
		t.Errorf("cp of a host-only file through /up: exit %d %s", r.code, r.stderr)
	}
	// The link itself is copied as a link, not followed.
	must(t, "cp", name+":/evil", filepath.Join(host, "evil"))
	if target, err := os.Readlink(filepath.Join(host, "evil")); err != nil || target != "/etc" {
		t.Errorf("cp of a link: %q %v", target, err)
	}
}

func TestCLICpToContainer(t *testing.T) {
	name := startCpContainer(t)
	host := t.TempDir()
	src := filepath.Join(host, "host.txt")
	os.WriteFile(src, []byte("from the host\n"), 0o640)
	os.MkdirAll(filepath.Join(host, "tree", "inner"), 0o755)
	os.WriteFile(filepath.Join(host, "tree", "inner", "c.txt"), []byte("c\n"), 0o644)

	must(t, "cp", src, name+":/data/new.txt")
	if out := must(t, "exec", name, "cat", "/data/new.txt"); out != "from the host\n" {
		t.Errorf("host file to a new name: %q", out)
	}
	must(t, "cp", filepath.Join(host, "tree"), name+":/data")
	if out := must(t, "exec", name, "cat", "/data/tree/inner/c.txt"); out != "c\n" {
		t.Errorf("host directory into a directory: %q", out)
	}
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	tw.WriteHeader(&tar.Header{Name: "streamed.txt", Mode: 0o644, Size: 3, Typeflag: tar.TypeReg})
	tw.Write([]byte("st\n"))
	tw.Close()
	if r, _ := cpBudgie(t, &tarball, "cp", "-", name+":/data"); r.code != 0 {
		t.Fatalf("cp - C:/data: exit %d %s", r.code, r.stderr)
	}
	if out := must(t, "exec", name, "cat", "/data/streamed.txt"); out != "st\n" {
		t.Errorf("tar on stdin: %q", out)
	}
	if r := budgie(t, "cp", src, name+":/no/such/dir/x"); r.code != 3 {
		t.Errorf("cp into a missing directory: exit %d %s", r.code, r.stderr)
	}
}

// TestCLICpSymlinkAttack: a link in the container must never make cp
// write on the host: /evil -> /etc and /up -> ../../../etc land inside the
// container's /etc, and a tar that plants a link and writes through it is
// refused.
func TestCLICpSymlinkAttack(t *testing.T) {
	name := startCpContainer(t)
	src := filepath.Join(t.TempDir(), "host.txt")
	os.WriteFile(src, []byte("payload\n"), 0o644)
	for _, link := range []string{"evil", "up"} {
		victim := fmt.Sprintf("budgie-cp-attack-%s-%d", link, time.Now().UnixNano())
		t.Cleanup(func() { os.Remove("/etc/" + victim) })
		r := budgie(t, "cp", src, name+":/"+link+"/"+victim)
		if _, err := os.Lstat("/etc/" + victim); err == nil {
			t.Fatalf("cp through /%s wrote the host's /etc/%s", link, victim)
		}
		if r.code != 0 {
			t.Errorf("cp through /%s: exit %d %s (want the container's /etc)", link, r.code, r.stderr)
		}
		if out := must(t, "exec", name, "cat", "/etc/"+victim); out != "payload\n" {
			t.Errorf("container's /etc/%s = %q", victim, out)
		}
	}

	victim := fmt.Sprintf("budgie-cp-tar-%d", time.Now().UnixNano())
	t.Cleanup(func() { os.Remove("/etc/" + victim) })
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	tw.WriteHeader(&tar.Header{Name: "link", Linkname: "/etc", Typeflag: tar.TypeSymlink})
	tw.WriteHeader(&tar.Header{Name: "link/" + victim, Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("x\n"))
	tw.WriteHeader(&tar.Header{Name: "../../../../etc/" + victim, Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("x\n"))
	tw.Close()
	if r, _ := cpBudgie(t, &tarball, "cp", "-", name+":/data"); r.code == 0 {
		t.Errorf("a tar writing through a planted link was accepted")
	}
	if _, err := os.Lstat("/etc/" + victim); err == nil {
		t.Fatalf("the tar wrote the host's /etc/%s", victim)
	}
	if r := budgie(t, "exec", name, "cat", "/etc/"+victim); r.code == 0 {
		t.Errorf("the tar wrote through the link into the container's /etc too")
	}
}

func TestCLICpErrorsAndHelp(t *testing.T) {
	path, name := writeBundle(t, "args: [sleep, \"3600\"]\n")
	must(t, "run", path)
	must(t, "stop", "-t", "1", name)
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"cp", name + ":/etc/passwd", t.TempDir()}, 1, "budgie start"},
		{[]string{"cp", "no-such-thing:/x", t.TempDir()}, 3, "no such container"},
		{[]string{"cp", "/tmp/a", "/tmp/b"}, 2, "CONTAINER:PATH"},
		{[]string{"cp", "a:/x", "b:/y"}, 2, "two containers"},
	}
	for _, tt := range tests {
		if r := budgie(t, tt.args...); r.code != tt.code || !strings.Contains(r.stderr, tt.contains) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, r.code, tt.code, r.stderr, tt.contains)
		}
	}
	if out := must(t, "cp", "--help"); !strings.Contains(out, "Example:") || !strings.Contains(out, "stopped container is refused") {
		t.Errorf("cp --help:\n%s", out)
	}
}
