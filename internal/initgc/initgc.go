// Package initgc lets Go's garbage collector run less often during a
// budgie process's first second.
//
// Package initialisation allocates about 4.4 MB (JSON Schema compilation in
// the jsonschema package compose-go uses, regular expressions, protobuf
// descriptors). With Go's first heap goal of 4 MB that means two or three
// collections before main runs, in every budgie process: the CLI, nest,
// and the log driver containerd's shim starts for each container. A GC
// percentage of 400 from this package's init until a second after main
// starts means none at all for a short command (`run`, `ps`), and one, a
// second in, for a long-lived process (keeper, nest, log driver), which
// then runs with the usual setting. Restoring it at once in main would
// only move the collection there: the heap is past the 4 MB goal by then.
//
// Imported by main; its init runs after about 1.5 MB of other packages'
// allocations (its dependency runtime/debug waits for fmt and os), before
// the first collection and before the large libraries' init. A GOGC of
// off or above 400 is left as it is.
package initgc

import (
	"runtime/debug"
	"time"
)

// during is the GC percentage until grace after main started.
const during = 400

// grace is how long after Done the percentage goes back.
const grace = time.Second

// restore is the percentage Done sets back; negative: nothing to restore.
var restore = -1

// atInit is the GC percentage init left (for the test).
var atInit = raise()

// raise sets the GC percentage to during unless GOGC asked for off or
// more, records what Done restores and returns the percentage now set.
func raise() int {
	prev := debug.SetGCPercent(during)
	if prev < 0 || prev >= during {
		debug.SetGCPercent(prev)
		return prev
	}
	restore = prev
	return during
}

// Done sets the GC percentage back to what it was before init (GOGC, 100
// by default) a second from now. main calls it first, once.
func Done() {
	if p := restore; p >= 0 {
		restore = -1
		time.AfterFunc(grace, func() { debug.SetGCPercent(p) })
	}
}
