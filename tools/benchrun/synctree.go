package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
)

// makeSyncTree writes the big-file tree: big/NN.bin and small/DD/NNN.bin
// of random (incompressible) bytes.
func makeSyncTree(rng *rand.Rand, dir string, sc syncScale) error {
	for i := range sc.BigFiles {
		if err := randomFile(rng, filepath.Join(dir, "big", fmt.Sprintf("%02d.bin", i)), sc.BigSize); err != nil {
			return err
		}
	}
	for i := range sc.SmallFiles {
		p := filepath.Join(dir, "small", fmt.Sprintf("%02d", i%16), fmt.Sprintf("%04d.bin", i))
		if err := randomFile(rng, p, sc.SmallSize); err != nil {
			return err
		}
	}
	return nil
}

// makeManyFiles writes n files of 512 B to 8 KiB, 100 per directory.
func makeManyFiles(rng *rand.Rand, dir string, n int) error {
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("d%03d", i/100), fmt.Sprintf("f%05d.txt", i))
		if err := randomFile(rng, p, 512+rng.Int64N(8<<10-512+1)); err != nil {
			return err
		}
	}
	return nil
}

// randomFile writes size random bytes to p, creating its directory.
func randomFile(rng *rand.Rand, p string, size int64) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return fmt.Errorf("sync: write test data: %w", err)
	}
	_, err = io.CopyN(f, readerOf(rng), size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// overwrite writes n random bytes into p at off.
func overwrite(rng *rand.Rand, p string, off int64, n int) error {
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	buf := make([]byte, n)
	readerOf(rng).Read(buf)
	_, err = f.WriteAt(buf, off)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rngReader reads random bytes from a math/rand generator.
type rngReader struct{ rng *rand.Rand }

func readerOf(rng *rand.Rand) io.Reader { return rngReader{rng} }

func (r rngReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 8 {
		v := r.rng.Uint64()
		for j := 0; j < 8 && i+j < len(p); j++ {
			p[i+j] = byte(v >> (8 * j))
		}
	}
	return len(p), nil
}

// sameTrees checks that both replicas hold the same files (path, mode,
// mtime, content): a figure from a wrong copy is no figure.
func sameTrees(a, b string) error {
	fa, err := describeFiles(a)
	if err != nil {
		return err
	}
	fb, err := describeFiles(b)
	if err != nil {
		return err
	}
	for _, p := range slices.Sorted(maps.Keys(fa)) {
		if fa[p] != fb[p] {
			return fmt.Errorf("sync: the replicas differ at %s: budgie %q, rsync %q", p, fa[p], fb[p])
		}
	}
	if len(fa) != len(fb) {
		return fmt.Errorf("sync: the budgie replica has %d files, the rsync one %d", len(fa), len(fb))
	}
	return nil
}

// describeFiles maps each regular file under dir to its mode, mtime and SHA-256.
func describeFiles(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = fmt.Sprintf("%v %d %x", info.Mode(), info.ModTime().UnixNano(), h.Sum(nil))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sync: compare replicas: %w", err)
	}
	return out, nil
}

// sizeText renders a byte count in binary units ("1 GiB", "224 MiB").
func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%.4g MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.4g KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
