package stack

import (
	"fmt"
	"sort"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Levels sorts specs topologically by depends_on: level 0 depends on
// nothing in specs, level n on something in level n-1 and nothing later.
// Dependencies on names outside specs are ignored (they are looked up on
// the node). Names within a level are sorted. A cycle is an
// errdefs.ErrInvalid error that prints it: "a -> b -> c -> a".
func Levels(specs []models.ContainerSpec) ([][]string, error) {
	deps, err := graph(specs)
	if err != nil {
		return nil, err
	}
	if cycle := findCycle(deps); cycle != nil {
		return nil, fmt.Errorf("depends_on has a cycle: %s: %w", strings.Join(cycle, " -> "), errdefs.ErrInvalid)
	}
	level := map[string]int{}
	var depth func(string) int
	depth = func(n string) int {
		if l, ok := level[n]; ok {
			return l
		}
		l := 0
		for _, d := range deps[n] {
			l = max(l, depth(d)+1)
		}
		level[n] = l
		return l
	}
	var out [][]string
	for _, n := range sortedNames(deps) {
		l := depth(n)
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], n)
	}
	return out, nil
}

// graph maps each name to the names it depends on within specs.
func graph(specs []models.ContainerSpec) (map[string][]string, error) {
	deps := make(map[string][]string, len(specs))
	for _, s := range specs {
		if _, dup := deps[s.Name]; dup {
			return nil, fmt.Errorf("two containers are named %s: %w", s.Name, errdefs.ErrInvalid)
		}
		deps[s.Name] = nil
	}
	for _, s := range specs {
		for _, d := range s.DependsOn {
			if d.Name == s.Name {
				return nil, fmt.Errorf("depends_on has a cycle: %s -> %s: %w", s.Name, s.Name, errdefs.ErrInvalid)
			}
			if _, in := deps[d.Name]; in {
				deps[s.Name] = append(deps[s.Name], d.Name)
			}
		}
	}
	return deps, nil
}

// findCycle returns a cycle as a path that ends where it starts, or nil.
// The search starts from names in sorted order so the answer is stable.
func findCycle(deps map[string][]string) []string {
	const (
		unseen = iota
		onPath
		done
	)
	mark := map[string]int{}
	var path []string
	var visit func(string) []string
	visit = func(n string) []string {
		mark[n] = onPath
		path = append(path, n)
		for _, d := range deps[n] {
			switch mark[d] {
			case onPath:
				i := indexOf(path, d)
				return append(append([]string{}, path[i:]...), d)
			case unseen:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		mark[n] = done
		return nil
	}
	for _, n := range sortedNames(deps) {
		if mark[n] == unseen {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func sortedNames(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
