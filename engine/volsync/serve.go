package volsync

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
)

// entriesBatch is the payload size at which an entries frame is sent.
const entriesBatch = 512 << 10

// handleIndex streams the index of a volume (or of some prefixes of it).
// The peer is authorized before anything else of the request is looked at,
// and the prefixes are capped before they are normalized.
func (ss *session) handleIndex(p []byte) error {
	d := dec{b: p}
	name := d.str(maxPathLen)
	n := d.u32()
	if d.err != nil {
		return d.err
	}
	root, err := ss.volume(name)
	if err != nil {
		return err
	}
	if n > maxPrefixes {
		return &requestError{codeInvalid, fmt.Sprintf("index request names %d paths; at most %d", n, maxPrefixes)}
	}
	raw := make([]string, 0, n)
	for range n {
		raw = append(raw, d.str(maxPathLen))
	}
	if err := d.done(); err != nil {
		return err
	}
	prefixes, err := normPrefixes(raw)
	if err != nil {
		return &requestError{codeInvalid, err.Error()}
	}
	entries, _, err := scanTree(root, prefixes)
	if err != nil {
		return &requestError{codeInternal, err.Error()}
	}
	entries = withAncestors(root, entries, prefixes)
	return ss.streamIndex(root, name, entries)
}

// withAncestors adds the directories above each prefix so the replica can
// create them and set their metadata.
func withAncestors(root *os.Root, entries []Entry, prefixes []string) []Entry {
	seen := map[string]bool{}
	for _, en := range entries {
		seen[en.Path] = true
	}
	for _, pre := range prefixes {
		for a := parentOf(pre); a != ""; a = parentOf(a) {
			if seen[a] {
				continue
			}
			seen[a] = true
			if en, ok, err := lstatEntry(root, a); err == nil && ok && en.Kind == KindDir {
				entries = append(entries, en)
			}
		}
	}
	sortEntries(entries)
	return entries
}

// streamIndex hashes files on all cores and sends entries in path order.
func (ss *session) streamIndex(root *os.Root, volume string, entries []Entry) error {
	ctx, cancel := context.WithCancel(ss.ctx)
	defer cancel()
	done := make([]chan bool, len(entries))
	jobs := make(chan int)
	for i := range entries {
		if entries[i].Kind == KindFile {
			done[i] = make(chan bool, 1)
		}
	}
	go func() {
		defer close(jobs)
		for i := range entries {
			if done[i] == nil {
				continue
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for i := range jobs {
				done[i] <- ss.hashEntry(root, volume, &entries[i])
			}
		}()
	}
	var e enc
	count, sent := uint32(0), uint32(0)
	for i := range entries {
		if done[i] != nil && !<-done[i] {
			continue
		}
		encodeEntry(&e, &entries[i])
		count++
		if len(e.b) >= entriesBatch {
			if err := ss.sendEntries(count, e.b); err != nil {
				return err
			}
			sent += count
			e.b, count = e.b[:0], 0
		}
	}
	if count > 0 {
		if err := ss.sendEntries(count, e.b); err != nil {
			return err
		}
		sent += count
	}
	var end enc
	end.u32(sent)
	return ss.send(msgIndexEnd, end.b)
}

func (ss *session) sendEntries(count uint32, body []byte) error {
	var h enc
	h.u32(count)
	return ss.send(msgEntries, h.b, body)
}

// hashEntry fills a file entry's hashes, retrying a file that changes while
// it is read. It returns false when the file should be left out.
func (ss *session) hashEntry(root *os.Root, volume string, en *Entry) bool {
	key := volume + "\x00" + en.Path
	for range 3 {
		size, mtime, blocks, err := ss.srv.cache.hashFile(root, key, en.Path, 0)
		if err == nil {
			en.Size, en.ModTime, en.BlockSize, en.Blocks = size, mtime, BlockSizeFor(size), blocks
			return true
		}
		if !errors.Is(err, errChanged) {
			if !errors.Is(err, fs.ErrNotExist) {
				ss.srv.log.Warn("sync cannot hash file; leaving it out", "volume", volume, "path", en.Path, "err", err)
			}
			return false
		}
	}
	ss.srv.log.Warn("sync file keeps changing; leaving it out this time", "volume", volume, "path", en.Path)
	return false
}

// relPath turns a path reported by a change source into a volume-relative
// path; ok is false for paths outside dir.
func relPath(dir, p string) (string, bool) {
	if strings.HasPrefix(p, "/") {
		dir = strings.TrimSuffix(dir, "/")
		if p == dir {
			return "", true
		}
		if !strings.HasPrefix(p, dir+"/") {
			return "", false
		}
		p = p[len(dir)+1:]
	}
	p = strings.TrimPrefix(p, "./")
	if p == "" || p == "." {
		return "", true
	}
	return p, checkPath(p) == nil
}
