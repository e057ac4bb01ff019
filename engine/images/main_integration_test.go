//go:build integration

package images_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/internal/testkit"
)

var (
	env *testkit.Env
	reg *testkit.Registry
	svc *images.Service
)

// TestMain starts one private containerd and one registry for the package.
func TestMain(m *testing.M) {
	var err error
	env, err = testkit.StartContainerd("")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		os.Exit(1)
	}
	reg, err = testkit.StartRegistry("")
	if err != nil {
		env.Close()
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		os.Exit(1)
	}
	svc = images.New(env.Client(), images.Options{})
	code := m.Run()
	reg.Close()
	if err := env.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// testContext is the test namespace with a deadline, cancelled at cleanup.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(env.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// push puts a busybox image named ref (in reg) into the registry.
func push(t *testing.T, ref string, opts testkit.ImageOptions) {
	t.Helper()
	if err := testkit.PushBusybox(testContext(t), env.Client(), reg, ref, opts); err != nil {
		t.Fatal(err)
	}
}

// archive returns an OCI image-layout tar of a busybox image named ref.
func archive(t *testing.T, ref string, opts testkit.ImageOptions) *bytes.Buffer {
	t.Helper()
	opts.Ref = ref
	var buf bytes.Buffer
	if err := testkit.WriteBusyboxArchive(&buf, opts); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// load loads an OCI archive of a busybox image named ref and returns its
// store name.
func load(t *testing.T, ref string, opts testkit.ImageOptions) string {
	t.Helper()
	imgs, err := svc.Load(testContext(t), archive(t, ref, opts), images.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 {
		t.Fatalf("Load gave %d images, want 1", len(imgs))
	}
	return imgs[0].Name
}

// assertUnpacked fails unless the image is unpacked into overlayfs.
func assertUnpacked(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	img, err := env.Client().GetImage(ctx, name)
	if err != nil {
		t.Fatalf("get image %s: %v", name, err)
	}
	ok, err := img.IsUnpacked(ctx, "overlayfs")
	if err != nil || !ok {
		t.Fatalf("image %s unpacked = %v, %v; want true", name, ok, err)
	}
}
