package proxy

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"sync/atomic"
	"time"
)

// httpServer is the reverse proxy of an http port: each request goes to
// one backend, chosen per request, over kept-alive connections.
func (s *service) httpServer() *http.Server {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: s.dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = s.name // replaced by the backend in balancer.RoundTrip
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
		},
		Transport:     &balancer{s: s, tr: tr},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			if errors.Is(err, errNoBackend) {
				http.Error(w, "no healthy backend for "+s.name, http.StatusServiceUnavailable)
				return
			}
			s.log.Debug("proxy: backend failed", "service", s.name, "err", err)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	return &http.Server{Handler: rp, ReadHeaderTimeout: 30 * time.Second}
}

// balancer is the reverse proxy's transport: it picks the backend of each
// request and, when a backend refuses the connection (nothing was sent),
// counts a failure and tries the next healthy one.
type balancer struct {
	s  *service
	tr *http.Transport
}

// RoundTrip sends req to a backend.
func (l *balancer) RoundTrip(req *http.Request) (*http.Response, error) {
	tried := map[*backend]bool{}
	retryable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for {
		b := l.s.pick(tried)
		if b == nil {
			return nil, errNoBackend
		}
		tried[b] = true
		req.URL.Host = b.Addr
		resp, err := l.tr.RoundTrip(req)
		if err != nil {
			b.failures.Add(1)
			b.active.Add(-1)
			if isDialError(err) && retryable {
				b.requests.Add(-1)
				if req.GetBody != nil {
					if req.Body, err = req.GetBody(); err != nil {
						return nil, err
					}
				}
				continue
			}
			return nil, err
		}
		if req.ContentLength > 0 {
			b.bytesIn.Add(req.ContentLength)
		}
		resp.Body = &countedBody{ReadCloser: resp.Body, b: b}
		return resp, nil
	}
}

// isDialError reports whether err happened while connecting, before any
// byte of the request was sent.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// countedBody counts the response's bytes and ends the backend's active
// request when the proxy has copied and closed it.
type countedBody struct {
	io.ReadCloser
	b    *backend
	done atomic.Bool
}

// Read counts bytes; the request stops being active when the backend's
// answer has been read to its end (before its last bytes reach the
// client, so that the client's next request already sees it idle).
func (c *countedBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.b.bytesOut.Add(int64(n))
	if err != nil {
		c.finish()
	}
	return n, err
}

// Close ends the request (an answer cut short ends here).
func (c *countedBody) Close() error {
	c.finish()
	return c.ReadCloser.Close()
}

func (c *countedBody) finish() {
	if !c.done.Swap(true) {
		c.b.active.Add(-1)
	}
}
