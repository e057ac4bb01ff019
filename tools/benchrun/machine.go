package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// describeMachine reads the CPU, memory, kernel and tool versions.
func describeMachine() Machine {
	cpu := procField("/proc/cpuinfo", "model name")
	mem := "unknown"
	if kb, err := meminfo("MemTotal"); err == nil {
		mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return Machine{
		CPU:        cpu,
		Cores:      runtime.NumCPU(),
		Memory:     mem,
		Kernel:     strings.TrimSpace(string(kernel)),
		Containerd: firstLine("containerd", "--version"),
		Runc:       firstLine("runc", "--version"),
		Go:         firstLine("go", "env", "GOVERSION"),
		Date:       time.Now().UTC(),
	}
}

// firstLine runs a command and returns the first line of its output.
func firstLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// procField returns the value of the first "key : value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// meminfo returns a /proc/meminfo field in KiB.
func meminfo(key string) (int64, error) {
	v := procField("/proc/meminfo", key)
	n, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read %s from /proc/meminfo: %w", key, err)
	}
	return n, nil
}
