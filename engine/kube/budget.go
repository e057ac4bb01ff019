package kube

import (
	"errors"
	"fmt"
)

// errOverBudget is an expansion that would take more than what is left of
// the play's byte budget.
var errOverBudget = errors.New("over budget")

// charge takes n bytes of the play's budget for a value copied or expanded
// into the bundle at path of w's document. When the budget runs out it
// records one problem, there, and every later charge fails too: Play then
// stops converting, so that a manifest that multiplies its values (a big
// ConfigMap taken as env by many containers, $(VAR) references to
// references) fails before it allocates more than the bundle's bound.
func (pl *player) charge(w *workload, path string, n int) bool {
	if pl.overBudget {
		return false
	}
	if n <= pl.budget {
		pl.budget -= n
		return true
	}
	pl.overBudget = true
	w.d.problem(path, "a bundle holds at most "+fmt.Sprint(maxBundle>>20)+" MiB: a big ConfigMap taken as env by many containers, "+
		"or $(VAR) references repeated many times, grow it past that; take fewer or smaller values",
		"the containers' env, command and args grow past %d MiB here", maxBundle>>20)
	return false
}

// expand expands a value at path of w's document with lookup, as
// expand does, and charges its size (key bytes more) to the play's
// budget; ok is false when it is refused (a problem is recorded).
func (pl *player) expand(w *workload, path, s string, key int, lookup func(string) (string, bool)) (string, bool) {
	if pl.overBudget {
		return "", false
	}
	limit, tooLong := maxExpanded, errTooLong
	if left := pl.budget - key; left < limit {
		limit, tooLong = max(left, 0), errOverBudget
	}
	v, err := expandLimit(s, lookup, limit, tooLong)
	switch {
	case errors.Is(err, errOverBudget):
		pl.charge(w, path, pl.budget+1)
		return "", false
	case err != nil:
		w.d.problem(path, "", "%v", err)
		return "", false
	}
	return v, pl.charge(w, path, key+len(v))
}
