// Package sync replicates named volumes from a primary node to a replica
// node over one mutually authenticated TLS connection (TCP 18733), one
// direction only: primary → replica.
//
// The primary runs a Server that serves volumes (name → directory) read-only
// behind an authorization callback. The replica dials it, wraps the
// connection in a Client and calls Sync: the client asks for the primary's
// index (every entry with its block hashes), diffs it against the local
// tree (a size+mtime quick check, then block hashes), asks for only the
// blocks it lacks in one pipelined stream of requests, and writes each
// changed file through a temp file in the same directory that is verified
// block by block and renamed over the target. Files are made durable in
// batches beside the transfer and reported synced only once their data,
// their name and their directory are on disk (see commit.go). Subscribe
// keeps a volume in sync continuously from change notifications.
//
// Every file operation on either side goes through os.Root, so paths with
// "..", absolute paths and symlinks that lead out of the volume are refused.
// Volumes are written by containers, which are hostile: files are opened
// on their parent directory's descriptor with O_NOFOLLOW|O_NONBLOCK and
// checked with fstat, only regular files are read or written, and temp
// files are created with O_EXCL (see fsafe.go and temp.go). The primary's
// port has handshake and idle deadlines and connection caps, and every
// request is authorized before it is parsed further. The replica gives up
// on a primary that stalls (ClientOptions.IdleTimeout), and bounds what
// it plans ahead of the stream (see budget.go) and what it holds in
// memory, whatever the index it is sent. The wire format and
// the limits are documented in docs/sync-protocol.md.
package volsync
