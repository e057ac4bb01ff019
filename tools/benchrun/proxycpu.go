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

// treeTicks sums the CPU time (utime+stime, in clock ticks) of pid and of
// every process below it: nginx's master and its workers, HAProxy's one
// process, the keeper.
func treeTicks(pid int) (int64, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	children := map[int][]int{}
	ticks := map[int]int64{}
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
			return 0, err
		}
		children[ppid] = append(children[ppid], p)
		ticks[p] = t
	}
	if _, ok := ticks[pid]; !ok {
		return 0, fmt.Errorf("process %d is gone", pid)
	}
	var sum int64
	for todo := []int{pid}; len(todo) > 0; {
		p := todo[len(todo)-1]
		todo = append(todo[:len(todo)-1], children[p]...)
		sum += ticks[p]
	}
	return sum, nil
}

// parseStatParent reads the parent PID (field 4) and utime+stime from a
// /proc/PID/stat line.
func parseStatParent(stat string) (ppid int, ticks int64, err error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("malformed /proc stat line %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return 0, 0, fmt.Errorf("short /proc stat line %q", stat)
	}
	if ppid, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, fmt.Errorf("malformed parent PID in %q", stat)
	}
	ticks, err = parseStatTicks(stat)
	return ppid, ticks, err
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
