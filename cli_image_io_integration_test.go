//go:build integration

package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// The exit code of errors without a class (cli/exit.go).
const exitError = 1

// image returns the one image `budgie images NAME` lists.
func (c *imageCLI) image(name string) models.Image {
	c.t.Helper()
	var listed []models.Image
	if err := json.Unmarshal([]byte(c.ok(nil, "images", "--format", "json", name)), &listed); err != nil {
		c.t.Fatal(err)
	}
	if len(listed) != 1 {
		c.t.Fatalf("images %s = %+v, want one image", name, listed)
	}
	return listed[0]
}

// tarNames lists the entries of a tar archive.
func tarNames(t *testing.T, data []byte) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("read archive: %v", err)
		}
		names[h.Name] = true
	}
}

func TestCLIImageIO(t *testing.T) {
	env, err := testkit.StartContainerd("")
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	reg, err := testkit.StartRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	const user, password = "budgie", "s3cret-pw"
	authReg, err := testkit.StartAuthRegistry("", user, password)
	if err != nil {
		t.Fatal(err)
	}
	defer authReg.Close()
	cli := newImageCLI(t, env)
	cli.env = append(cli.env, "XDG_CONFIG_HOME="+filepath.Join(cli.dir, ".config"))

	var archive bytes.Buffer
	if err := testkit.WriteBusyboxArchive(&archive, testkit.ImageOptions{Ref: "io-a:1", Files: map[string]string{"io": "a"}}); err != nil {
		t.Fatal(err)
	}
	cli.ok(archive.Bytes(), "load")
	orig := cli.image("io-a:1")

	t.Run("save", func(t *testing.T) { testSave(t, cli, orig) })
	t.Run("tag", func(t *testing.T) { testTag(t, cli, orig) })
	t.Run("push", func(t *testing.T) { testPush(t, cli, orig, reg.Addr()+"/test/io:1") })
	t.Run("auth", func(t *testing.T) { testAuth(t, cli, orig, authReg.Addr(), user, password) })
}

func testSave(t *testing.T, cli *imageCLI, orig models.Image) {
	for _, format := range []string{"docker", "oci"} {
		t.Run(format, func(t *testing.T) {
			file := filepath.Join(cli.dir, "io-"+format+".tar")
			if out := cli.ok(nil, "save", "--format", format, "-o", file, "io-a:1"); out != "" {
				t.Errorf("save -o printed %q", out)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			names := tarNames(t, data)
			if !names["index.json"] || !names["oci-layout"] || names["manifest.json"] != (format == "docker") {
				t.Errorf("%s archive entries = %v", format, names)
			}
			cli.ok(nil, "rmi", "io-a:1")
			if out := cli.ok(nil, "load", "-i", file); out != "Loaded image: io-a:1\n" {
				t.Errorf("load of the saved archive = %q", out)
			}
			if got := cli.image("io-a:1"); got.ID != orig.ID || got.Digest != orig.Digest {
				t.Errorf("after save, rmi, load: ID %s digest %s; want %s %s", got.ID, got.Digest, orig.ID, orig.Digest)
			}
		})
	}
	t.Run("stdout", func(t *testing.T) {
		out := cli.ok(nil, "save", strings.TrimPrefix(orig.ID, "sha256:")[:12])
		if !tarNames(t, []byte(out))["manifest.json"] {
			t.Fatal("save to standard output wrote no docker archive")
		}
		cli.ok(nil, "rmi", "io-a:1")
		if got := cli.ok([]byte(out), "load", "-q"); got != "docker.io/library/io-a:1\n" {
			t.Errorf("load of save's standard output = %q", got)
		}
	})
	t.Run("errors", func(t *testing.T) {
		file := filepath.Join(cli.dir, "missing.tar")
		if _, _, code := cli.runAll(nil, "save", "-o", file, "io-a:1", "no-such:1"); code != exitNotFound {
			t.Errorf("save of a missing image: exit %d, want %d", code, exitNotFound)
		}
		if _, err := os.Stat(file); !os.IsNotExist(err) {
			t.Errorf("a failed save left %s (stat: %v)", file, err)
		}
		if _, _, code := cli.runAll(nil, "save", "--format", "zip", "io-a:1"); code != exitUsage {
			t.Errorf("save --format zip: exit %d, want %d", code, exitUsage)
		}
	})
}

func testTag(t *testing.T, cli *imageCLI, orig models.Image) {
	if out := cli.ok(nil, "tag", "io-a:1", "io-b:2"); out != "" {
		t.Errorf("tag printed %q", out)
	}
	cli.ok(nil, "image", "tag", strings.TrimPrefix(orig.ID, "sha256:")[:12], "example.com/team/io-c")
	for _, name := range []string{"io-b:2", "example.com/team/io-c:latest"} {
		got := cli.image(name)
		if got.ID != orig.ID || got.Digest != orig.Digest {
			t.Errorf("%s: ID %s digest %s; want %s %s", name, got.ID, got.Digest, orig.ID, orig.Digest)
		}
	}
	if got := cli.image("io-b:2").Name; got != "docker.io/library/io-b:2" {
		t.Errorf("tagged name = %q, want it normalised", got)
	}
	cli.ok(nil, "rmi", "io-b:2", "example.com/team/io-c")
	if got := cli.image("io-a:1"); got.ID != orig.ID {
		t.Errorf("rmi of the new names removed the source")
	}
	if _, _, code := cli.runAll(nil, "tag", "no-such:1", "x:1"); code != exitNotFound {
		t.Errorf("tag of a missing image: exit %d, want %d", code, exitNotFound)
	}
	if _, _, code := cli.runAll(nil, "tag", "io-a:1", "Bad Name"); code != exitUsage {
		t.Errorf("tag to a bad name: exit %d, want %d", code, exitUsage)
	}
}

// layerLines matches push's per-layer lines for one layer.
var layerLines = regexp.MustCompile(`(?m)^([0-9a-f]{12}): waiting\n(?:[0-9a-f]{12}: \w+\n)*?[0-9a-f]{12}: uploading\n(?:[0-9a-f]{12}: \w+\n)*?[0-9a-f]{12}: done$`)

func testPush(t *testing.T, cli *imageCLI, orig models.Image, ref string) {
	cli.ok(nil, "tag", "io-a:1", ref)
	out := cli.ok(nil, "push", ref)
	t.Logf("push output:\n%s", out)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if lines[len(lines)-1] != ref || !strings.Contains(out, "Digest: "+orig.Digest+"\n") {
		t.Errorf("push output does not end with the digest and %s:\n%s", ref, out)
	}
	if !layerLines.MatchString(out) {
		t.Errorf("push output lacks the layer's waiting, uploading, done lines:\n%s", out)
	}
	cli.ok(nil, "rmi", ref)
	cli.ok(nil, "pull", "-q", ref)
	if got := cli.image(ref); got.ID != orig.ID || got.Digest != orig.Digest {
		t.Errorf("pulled back: ID %s digest %s; want %s %s", got.ID, got.Digest, orig.ID, orig.Digest)
	}
	if out := cli.ok(nil, "push", "-q", ref); out != ref+"\n" {
		t.Errorf("push -q = %q", out)
	}
	if _, _, code := cli.runAll(nil, "push", reg127(ref)+"/never-tagged:1"); code != exitNotFound {
		t.Errorf("push of a missing image: exit %d, want %d", code, exitNotFound)
	}
	cli.ok(nil, "rmi", ref)
}

// reg127 is the registry part of a reference.
func reg127(ref string) string { return strings.SplitN(ref, "/", 2)[0] }

func testAuth(t *testing.T, cli *imageCLI, orig models.Image, host, user, password string) {
	ref := host + "/private/io:1"
	authFile := filepath.Join(cli.dir, ".config", "budgie", "auth.json")
	cli.ok(nil, "tag", "io-a:1", ref)

	_, stderr, code := cli.runAll(nil, "push", ref)
	t.Logf("push without login: %s", stderr)
	if code != exitError || !strings.Contains(stderr, "unauthorized (log in: budgie login "+host+")") {
		t.Errorf("push without login: exit %d, stderr %q; want %d and a hint to log in", code, stderr, exitError)
	}

	stdout, stderr, code := cli.runAll([]byte("wrong\n"), "login", "-u", user, "--password-stdin", host)
	t.Logf("login with a wrong password: %s", stderr)
	if code != exitError || !strings.Contains(stderr, "refused the user name or password") {
		t.Errorf("login with a wrong password: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(authFile); !os.IsNotExist(err) {
		t.Errorf("a refused login stored %s (stat: %v)", authFile, err)
	}
	if _, _, code := cli.runAll(nil, "login", host); code != exitUsage {
		t.Errorf("login without a terminal or --password-stdin: exit %d, want %d", code, exitUsage)
	}

	stdout, stderr, code = cli.runAll([]byte(password+"\n"), "login", "-u", user, "--password-stdin", "http://"+host+"/")
	if code != 0 || stdout != "Login Succeeded\n" {
		t.Fatalf("login: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, password) {
		t.Error("login printed the password")
	}
	st, err := os.Stat(authFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("auth file %s: %v; want mode 0600", authFile, err)
	}
	if data, _ := os.ReadFile(authFile); strings.Contains(string(data), password) || !strings.Contains(string(data), `"`+host+`"`) {
		t.Errorf("auth file holds the plain password or lacks %s:\n%s", host, data)
	}

	if out := cli.ok(nil, "push", ref); !strings.HasSuffix(out, ref+"\n") {
		t.Errorf("push after login:\n%s", out)
	}
	cli.ok(nil, "rmi", ref)
	cli.ok(nil, "pull", "-q", ref)
	if got := cli.image(ref); got.ID != orig.ID {
		t.Errorf("pulled from the private registry: ID %s, want %s", got.ID, orig.ID)
	}
	cli.ok(nil, "rmi", ref)

	if out := cli.ok(nil, "logout", host); out != "Removing login credentials for "+host+"\n" {
		t.Errorf("logout = %q", out)
	}
	_, stderr, code = cli.runAll(nil, "pull", ref)
	t.Logf("pull after logout: %s", stderr)
	if code != exitError || !strings.Contains(stderr, "budgie login "+host) {
		t.Errorf("pull after logout: exit %d, stderr %q; want %d and a hint to log in", code, stderr, exitError)
	}
	if _, _, code := cli.runAll(nil, "logout", host); code != exitNotFound {
		t.Errorf("second logout: exit %d, want %d", code, exitNotFound)
	}
}
