package logs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// rotated is one json.log.N file.
type rotated struct {
	index int
	path  string
}

// rotatedName is the path of json.log.k.
func rotatedName(dir string, k int) string {
	return filepath.Join(dir, logFile+"."+strconv.Itoa(k))
}

// rotatedFiles lists json.log.N files in dir, lowest N (newest) first. A
// missing dir gives none.
func rotatedFiles(dir string) ([]rotated, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list container logs: %w", err)
	}
	var out []rotated
	for _, e := range ents {
		suffix, ok := strings.CutPrefix(e.Name(), logFile+".")
		if !ok {
			continue
		}
		if k, err := strconv.Atoi(suffix); err == nil && k > 0 && strconv.Itoa(k) == suffix {
			out = append(out, rotated{index: k, path: filepath.Join(dir, e.Name())})
		}
	}
	slices.SortFunc(out, func(a, b rotated) int { return a.index - b.index })
	return out, nil
}

// logFileRef is an open log file and its identity.
type logFileRef struct {
	f    *os.File
	info os.FileInfo
}

// openChain opens json.log and its rotated files and returns them oldest
// first. If the driver rotates meanwhile, it starts again, so that the
// names it saw were consistent: json.log is still the file it opened, and
// every json.log.N now listed is the file it opened under that name. A
// rotation renames json.log.N-1 to json.log.N one by one before it renames
// json.log, so a check of json.log alone would miss a listing taken in the
// middle of the shift (json.log.1 gone, json.log.2 renamed: the oldest
// file skipped).
func openChain(dir string) ([]logFileRef, error) {
	for attempt := 0; ; attempt++ {
		chain, current, opened, err := openChainOnce(dir)
		if err != nil {
			return nil, err
		}
		if unchanged(dir, current, opened) || attempt >= 10 {
			return chain, nil
		}
		closeRefs(chain)
	}
}

// chainListed, when set (by tests), runs between openChainOnce's listing
// of the rotated files and their opening.
var chainListed func()

// openChainOnce opens json.log, then lists and opens the rotated files;
// it returns them oldest first, json.log's identity (nil if absent) and
// the identity of each rotated file opened, by path.
func openChainOnce(dir string) ([]logFileRef, os.FileInfo, map[string]os.FileInfo, error) {
	var chain []logFileRef
	var current os.FileInfo
	opened := map[string]os.FileInfo{}
	add := func(path string) error {
		ref, err := openRef(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read container log: %w", err)
		}
		opened[path] = ref.info
		if slices.ContainsFunc(chain, func(c logFileRef) bool { return os.SameFile(c.info, ref.info) }) {
			ref.f.Close()
			return nil
		}
		chain = append(chain, ref)
		return nil
	}
	if err := add(filepath.Join(dir, logFile)); err != nil {
		return nil, nil, nil, err
	}
	if len(chain) > 0 {
		current = chain[0].info
	}
	delete(opened, filepath.Join(dir, logFile))
	rot, err := rotatedFiles(dir)
	if chainListed != nil {
		chainListed()
	}
	for _, r := range rot {
		if err == nil {
			err = add(r.path)
		}
	}
	if err != nil {
		closeRefs(chain)
		return nil, nil, nil, err
	}
	slices.Reverse(chain)
	return chain, current, opened, nil
}

// unchanged reports whether dir still holds what openChainOnce opened:
// json.log is current (both absent, or the same file) and the rotated
// files listed now are, name for name, the files opened.
func unchanged(dir string, current os.FileInfo, opened map[string]os.FileInfo) bool {
	st, err := os.Stat(filepath.Join(dir, logFile))
	if err != nil && current != nil || err == nil && (current == nil || !os.SameFile(st, current)) {
		return false
	}
	rot, err := rotatedFiles(dir)
	if err != nil || len(rot) != len(opened) {
		return false
	}
	for _, r := range rot {
		info, ok := opened[r.path]
		if !ok {
			return false
		}
		if st, err := os.Stat(r.path); err != nil || !os.SameFile(st, info) {
			return false
		}
	}
	return true
}

// openRef opens path for reading.
func openRef(path string) (logFileRef, error) {
	f, err := os.Open(path)
	if err != nil {
		return logFileRef{}, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return logFileRef{}, err
	}
	return logFileRef{f: f, info: info}, nil
}

func closeRefs(refs []logFileRef) {
	for _, r := range refs {
		r.f.Close()
	}
}

// Remove deletes a container's log directory: its log files and driver
// options. A directory that does not exist is not an error.
func Remove(logDir string) error {
	if err := os.RemoveAll(logDir); err != nil {
		return fmt.Errorf("remove container logs in %s: %w", logDir, err)
	}
	return nil
}
