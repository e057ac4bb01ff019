package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
)

// cpuSplit is CPU time in clock ticks, split as /proc reports it.
type cpuSplit struct{ user, sys int64 }

func (c cpuSplit) total() int64 { return c.user + c.sys }

func (c cpuSplit) minus(d cpuSplit) cpuSplit { return cpuSplit{c.user - d.user, c.sys - d.sys} }

// treeTicks sums the CPU time (utime and stime, in clock ticks) of pid and
// of every process below it: nginx's master and its workers, HAProxy's one
// process, the keeper.
func treeTicks(pid int) (cpuSplit, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return cpuSplit{}, err
	}
	children := map[int][]int{}
	ticks := map[int]cpuSplit{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone since the listing
		}
		ppid, t, err := parseStatParent(string(b))
		if err != nil {
			return cpuSplit{}, err
		}
		children[ppid] = append(children[ppid], p)
		ticks[p] = t
	}
	if _, ok := ticks[pid]; !ok {
		return cpuSplit{}, fmt.Errorf("process %d is gone", pid)
	}
	var sum cpuSplit
	for todo := []int{pid}; len(todo) > 0; {
		p := todo[len(todo)-1]
		todo = append(todo[:len(todo)-1], children[p]...)
		sum.user += ticks[p].user
		sum.sys += ticks[p].sys
	}
	return sum, nil
}

// parseStatParent reads the parent PID (field 4), utime and stime from a
// /proc/PID/stat line.
func parseStatParent(stat string) (ppid int, ticks cpuSplit, err error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, cpuSplit{}, fmt.Errorf("malformed /proc stat line %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, cpuSplit{}, fmt.Errorf("short /proc stat line %q", stat)
	}
	if ppid, err = strconv.Atoi(f[1]); err != nil {
		return 0, cpuSplit{}, fmt.Errorf("malformed parent PID in %q", stat)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, cpuSplit{}, fmt.Errorf("malformed /proc stat times in %q", stat)
	}
	return ppid, cpuSplit{user: u, sys: s}, nil
}

// hostBusyTicks is the machine's CPU time spent on anything but idling
// or waiting for I/O, over all CPUs, from /proc/stat's "cpu" line.
func hostBusyTicks() (int64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseHostBusy(string(b))
}

// parseHostBusy reads /proc/stat's aggregate line: user nice system idle
// iowait irq softirq steal (guest time is already in user).
func parseHostBusy(stat string) (int64, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("malformed /proc/stat first line %q", line)
	}
	var busy int64
	for i, v := range f[1:9] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed /proc/stat first line %q", line)
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, nil
}

// keeperPid is the PID of the node's keeper.
func (b *bench) keeperPid() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := keeper.Dial(ctx, b.env.DataDir)
	if err != nil {
		return 0, fmt.Errorf("reach the keeper: %w", err)
	}
	info, err := c.Ping(ctx)
	if err != nil {
		return 0, fmt.Errorf("ask the keeper its PID: %w", err)
	}
	if info.Pid <= 0 {
		return 0, fmt.Errorf("the keeper did not say its PID")
	}
	return info.Pid, nil
}
