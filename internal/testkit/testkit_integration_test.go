//go:build integration

package testkit_test

import (
	"testing"

	"github.com/budgie-sh/budgie/internal/testkit"
)

func TestStartLoadClose(t *testing.T) {
	env, err := testkit.StartContainerd("")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := env.Close(); err != nil {
			t.Error(err)
		}
	}()
	if err := env.LoadBusybox(testkit.ImageOptions{Ref: "docker.io/library/bbtest:1"}); err != nil {
		t.Fatal(err)
	}
	img, err := env.Client().GetImage(env.Context(), "docker.io/library/bbtest:1")
	if err != nil {
		t.Fatal(err)
	}
	ok, err := img.IsUnpacked(env.Context(), "overlayfs")
	if err != nil || !ok {
		t.Fatalf("image not unpacked: %v %v", ok, err)
	}
}
