// Package proxy is the keeper's port publisher and load balancer. Each
// published port of a service is a listener the keeper owns: a TCP proxy
// (balanced per connection), an HTTP reverse proxy (balanced per request,
// keep-alive to the backends) or a UDP forwarder (balanced per client
// session). Backends are the service's running replicas; unhealthy ones
// get no new traffic, and a backend that refuses a connection is retried
// on the next one. Binding happens in Publish, so a taken port is reported
// at once, naming the process (or Budgie service) that holds it.
//
// # Clients are hostile
//
// Every limit is a field of Options (zero means the default below) and
// applies to each published port on its own.
//
//   - Connections: at most MaxConns (4096) open client connections per tcp
//     or http port; past it, new ones are closed at once and open ones are
//     kept. At most MaxUDPSessions (1024) sessions per udp port; past it, a
//     new client evicts the session idle the longest. A UDP session ends
//     after UDPIdleTimeout (60 s) without datagrams.
//   - HTTP heads: a request head must arrive within HeaderTimeout (15 s,
//     else 408) and fit in MaxHeaderBytes (64 KiB, give or take the 16 KiB
//     read buffer), with lines of at most 16 KiB and at most 128 fields
//     (else 431). A backend's answer head has the same byte bound (else 502)
//     and must begin within ResponseTimeout (60 s) of the request (else 504).
//     A kept-alive client connection waits IdleTimeout (60 s) for its next
//     request.
//   - HTTP bodies: once a head is read, the request body, the answer and
//     every write to either side must make progress within BodyTimeout
//     (60 s); a stall ends the exchange and closes both connections (408
//     when the client's body stalls before any answer).
//   - TCP streams and WebSocket tunnels (after 101 Switching Protocols) have
//     no timeouts: they may be idle for as long as their ends like.
//
// Each HTTP timeout may run up to an eighth longer than its value (67.5 s
// for 60 s, 16.9 s for 15 s, 1.125 s for 1 s): a connection's deadline is
// set that eighth further and kept while it is still far enough ahead, so
// that a busy connection moves it once an eighth of the timeout rather
// than at every request.
//
// # HTTP relay rules
//
// Request framing that two parsers could read differently is refused with
// 400 and the connection closed: Transfer-Encoding with Content-Length,
// Content-Length values that differ or are not plain digits, a malformed
// chunk, a folded or malformed field, a missing or repeated Host;
// transfer codings other than chunked get 501, CONNECT 501, versions other
// than HTTP/1.0 and 1.1 505. Chunked bodies are decoded and encoded again,
// their trailers dropped.
//
// The proxy is the edge: it sets X-Forwarded-For to the client's address
// (replacing, not appending), X-Forwarded-Host to the request's Host and
// X-Forwarded-Proto to http, and drops a client's X-Real-IP and Forwarded
// (and those names spelt with underscores). Hop-by-hop fields (Connection
// and the fields it names, Keep-Alive, Proxy-Connection, TE, Trailer,
// Transfer-Encoding, Upgrade, Proxy-Authenticate, Proxy-Authorization) are
// not passed on, except Upgrade and Connection: Upgrade for an upgrade.
//
// Answers carry the proxy's own version, HTTP/1.1, whatever the backend's;
// a body of unknown length (an HTTP/1.0 backend's, delimited by its close)
// goes chunked to an HTTP/1.1 client and delimited by the close to an
// HTTP/1.0 one. 1xx answers are never final. 100 Continue reaches a client that
// sent Expect: 100-continue (the body waits for it, or ContinueTimeout,
// 1 s), other 1xx reach HTTP/1.1 clients, and 101 turns the connection
// into a tunnel when the client asked for an upgrade. A backend connection
// returns to the pool only when its final answer's body ended as framed
// (Content-Length read, last chunk read; close-delimited answers never)
// with nothing more buffered, and the whole request was sent.
//
// A request is sent again after a failure only when nothing of it can have
// been processed: after a refused connection (to the next backend, any
// method), or when a kept-alive connection turns out closed by the backend
// and the method is idempotent (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) and
// none of its body was read.
package proxy
