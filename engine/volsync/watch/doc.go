// Package watch reports changes under a directory tree, for continuous
// volume sync: a recursive inotify watcher (fsnotify) that adds watches as
// directories appear, reports the files already inside a directory that
// appeared (they may predate its watch), never follows symlinks, and
// batches events (debounced, with a ceiling on the delay). When events are
// lost — the kernel's queue overflowed, or a watch could not be added — it
// says so with a Rescan change, and the consumer rescans everything.
package watch
