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

// KeeperPid returns the pid of the keeper of dataDir, asking it on its
// socket (dataDir/keeper.sock); 0 when none answers. It speaks the
// keeper's ping by hand: importing engine/keeper here would make an import
// cycle for the engine packages' in-package tests.
func KeeperPid(dataDir string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	sock := filepath.Join(dataDir, "keeper.sock")
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://keeper/v1/ping", nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil // no keeper answers
	}
	defer resp.Body.Close()
	var info struct {
		Pid int `json:"pid"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.Pid <= 0 {
		return 0, fmt.Errorf("keeper of %s: unreadable ping (%v)", dataDir, err)
	}
	return info.Pid, nil
}

// StopKeeper stops the keeper of dataDir, if one answers, with SIGTERM,
// and waits up to 10 s for it to exit. nest and `budgie run` start a
// keeper detached; left running after its containerd is gone, it would
// start a managed containerd of its own in dataDir.
func StopKeeper(dataDir string) error {
	pid, err := KeeperPid(dataDir)
	if err != nil || pid == 0 {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return nil // already gone
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Errorf("keeper of %s (pid %d) did not stop within 10 s of SIGTERM; killed", dataDir, pid)
}
