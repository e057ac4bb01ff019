//go:build integration

package main

import (
	"debug/elf"
	"testing"
)

// TestBuildIsStatic: the binary make build ships (bin/budgie, built by
// make integration first) loads no libc and names no interpreter. A cgo
// build would start every CLI command and every container's log driver
// slower (docs/BENCHMARKS.md) and tie the binary to the glibc it was
// built against.
func TestBuildIsStatic(t *testing.T) {
	f, err := elf.Open("bin/budgie")
	if err != nil {
		t.Fatalf("%v (run make build first)", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("bin/budgie names a dynamic loader: it was built with cgo (make build sets CGO_ENABLED=0)")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) > 0 {
		t.Fatalf("bin/budgie needs shared libraries %v", libs)
	}
}
