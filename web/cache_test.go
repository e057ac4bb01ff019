package web

import (
	"testing"

	"github.com/budgie-sh/budgie/models"
)

// TestCacheSince: a stream opened at version v gets each container changed
// after v once (gone ones by ID), and is told to resync when v is older
// than the change log or from the future.
func TestCacheSince(t *testing.T) {
	c := newContainerCache(nil)
	set := func(id string) { c.byID[id] = models.Container{ID: id, Name: id}; c.record(id) }
	set("a")
	set("b")
	v := c.version
	set("a")
	set("c")
	delete(c.byID, "b")
	c.record("b")
	changed, gone, now, _, ok := c.since(v)
	if !ok || now != 5 {
		t.Fatalf("since(%d): ok %v, now %d; want ok at version 5", v, ok, now)
	}
	if len(changed) != 2 || changed[0].ID != "a" || changed[1].ID != "c" || len(gone) != 1 || gone[0] != "b" {
		t.Fatalf("since(%d) = %v, gone %v; want a, c changed once each and b gone", v, changed, gone)
	}
	if _, _, _, _, ok := c.since(99); ok {
		t.Error("since a future version: ok, want a resync")
	}
	for range changeLogSize {
		set("d")
	}
	if _, _, _, _, ok := c.since(v); ok {
		t.Error("since a version older than the log: ok, want a resync")
	}
	if changed, _, _, _, ok := c.since(c.version - 1); !ok || len(changed) != 1 || changed[0].ID != "d" {
		t.Errorf("since the last but one version: %v %v", changed, ok)
	}
}
