// Package logs keeps container output in Docker's json-file format and reads
// it back.
//
// Writing happens in a separate process: the runtime creates each task with
// containerd's binary log driver, so the shim runs `budgie _log-driver
// <logDir>` with the container's stdout on fd 3, its stderr on fd 4 and a
// readiness pipe on fd 5 (RunDriver). The driver writes one JSON object per
// line to <logDir>/json.log,
//
//	{"log":"hello\n","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}
//
// splits lines longer than 16 KiB into several entries whose "log" does not
// end in "\n" (as Docker does), and rotates the file by size into json.log.1,
// json.log.2 and so on. A restarted container gets a new driver that appends
// to the same files. A task attached to the caller's streams (budgie run
// -it) has no driver process: the runtime runs Drive itself on the copy of
// its output.
//
// Read prints the entries back, joining split lines, across rotated files,
// with docker logs' --tail, --since, --timestamps and --follow.
package logs
