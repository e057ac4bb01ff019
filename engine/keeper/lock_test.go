package keeper

import "testing"

func TestLockHeld(t *testing.T) {
	dir := t.TempDir()
	if lockHeld(dir) {
		t.Fatal("held before anyone locked")
	}
	f, err := lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !lockHeld(dir) {
		t.Error("not held while locked")
	}
	if _, err := lock(dir); err == nil {
		t.Error("a second lock succeeded")
	}
	f.Close()
	if lockHeld(dir) {
		t.Error("held after release")
	}
}
