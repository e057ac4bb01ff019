package testkit

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"time"
)

// StopKeeper stops the keeper of dataDir, if one answers on its socket
// (dataDir/keeper.sock), with SIGTERM, and waits up to 10 s for it to
// exit. nest and `budgie run` start a keeper detached; left running after
// its containerd is gone, it would start a managed containerd of its own
// in dataDir. It speaks the keeper's ping by hand: importing
// engine/keeper here would make an import cycle for the engine packages'
// in-package tests.
func StopKeeper(dataDir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sock := filepath.Join(dataDir, "keeper.sock")
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://keeper/v1/ping", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil // no keeper answers
	}
	defer resp.Body.Close()
	var info struct {
		Pid int `json:"pid"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.Pid <= 0 {
		return fmt.Errorf("keeper of %s: unreadable ping (%v)", dataDir, err)
	}
	if err := syscall.Kill(info.Pid, syscall.SIGTERM); err != nil {
		return nil // already gone
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(info.Pid, 0) != nil {
			return nil
		}
	}
	_ = syscall.Kill(info.Pid, syscall.SIGKILL)
	return fmt.Errorf("keeper of %s (pid %d) did not stop within 10 s of SIGTERM; killed", dataDir, info.Pid)
}
