//go:build integration

package testkit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/internal/testkit"
)

func TestRegistryStartPushClose(t *testing.T) {
	reg, err := testkit.StartRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			reg.Close()
		}
	}()
	resp, err := http.Get("http://" + reg.Addr() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/: %s", resp.Status)
	}

	env, err := testkit.StartContainerd("")
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(env.Context(), 2*time.Minute)
	defer cancel()
	ref := reg.Addr() + "/test/busybox:1"
	if err := testkit.PushBusybox(ctx, env.Client(), reg, ref, testkit.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	// The registry lists the tag; the local store no longer has the image.
	resp, err = http.Get("http://" + reg.Addr() + "/v2/test/busybox/tags/list")
	if err != nil {
		t.Fatal(err)
	}
	var tags struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tags)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if tags.Name != "test/busybox" || len(tags.Tags) != 1 || tags.Tags[0] != "1" {
		t.Fatalf("tags/list = %+v, want test/busybox [1]", tags)
	}
	if _, err := env.Client().GetImage(ctx, ref); err == nil {
		t.Fatalf("PushBusybox left %s in the local store", ref)
	}
	if err := testkit.PushBusybox(ctx, env.Client(), reg, "127.0.0.1:1/x:1", testkit.ImageOptions{}); err == nil {
		t.Fatal("PushBusybox to another registry's ref succeeded")
	}

	addr := reg.Addr()
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	if _, err := (&http.Client{Timeout: time.Second}).Get("http://" + addr + "/v2/"); err == nil {
		t.Fatalf("registry still answers on %s after Close", addr)
	}
}
