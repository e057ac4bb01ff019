package keeper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// PublishRequest is the body of POST /v1/publish.
type PublishRequest struct {
	// Service is the name the ports belong to (a bundle's container name).
	Service string `json:"service"`
	// Strategy is the replicas' balancing strategy; empty means round-robin.
	Strategy string `json:"strategy,omitempty"`
	// Ports are the ports to publish; a zero host port asks for a random one.
	Ports []models.PortMapping `json:"ports"`
}

// PublishResponse is the answer of POST /v1/publish.
type PublishResponse struct {
	// Ports are the published ports, random host ports resolved.
	Ports []models.PortMapping `json:"ports"`
}

// errorBody is how the keeper's API reports a refused request.
type errorBody struct {
	Error string `json:"error"`
	Kind  string `json:"kind"`
}

// Publish asks the keeper's proxy to bind the service's host ports now, so
// that a port taken by anything else fails before a container is made. A
// service already published keeps its ports; random ones are resolved in
// the answer.
func (c *Client) Publish(ctx context.Context, req PublishRequest) ([]models.PortMapping, error) {
	var resp PublishResponse
	if err := c.send(ctx, http.MethodPost, "/v1/publish", req, &resp); err != nil {
		return nil, err
	}
	return resp.Ports, nil
}

// Unpublish releases the service's ports unless a container of the service
// still exists.
func (c *Client) Unpublish(ctx context.Context, service string) error {
	return c.send(ctx, http.MethodDelete, "/v1/publish?service="+url.QueryEscape(service), nil, nil)
}

// Services returns the proxy's published services with per-backend stats.
func (c *Client) Services(ctx context.Context) ([]models.ServiceStats, error) {
	var out []models.ServiceStats
	err := c.get(ctx, "/v1/services", &out)
	return out, err
}

// send makes a request with a JSON body and decodes a JSON answer; the
// keeper's refusals come back as errors wrapping the matching sentinel.
func (c *Client) send(ctx context.Context, method, path string, body, v any) error {
	sock := SocketPath(c.dataDir)
	if _, err := os.Stat(sock); err != nil {
		return fmt.Errorf("no keeper runs for %s (start one: budgie --headless serve): %w", c.dataDir, errdefs.ErrUnavailable)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("keeper %s: encode request: %w", path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://keeper"+path, rd)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("keeper at %s does not answer (start one: budgie --headless serve): %w: %w", sock, err, errdefs.ErrUnavailable)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var eb errorBody
		_ = json.NewDecoder(resp.Body).Decode(&eb)
		if eb.Error == "" {
			eb.Error = fmt.Sprintf("keeper %s: %s", path, resp.Status)
		}
		if errdefs.FromKind(eb.Kind) == nil {
			return errors.New(eb.Error)
		}
		return fmt.Errorf("%s: %w", eb.Error, errdefs.FromKind(eb.Kind))
	}
	if v == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("keeper %s: decode answer: %w", path, err)
	}
	return nil
}

// writeError answers a refused request with its message and kind.
func writeError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch errdefs.Kind(err) {
	case "invalid":
		code = http.StatusBadRequest
	case "not found":
		code = http.StatusNotFound
	case "conflict":
		code = http.StatusConflict
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(errorBody{Error: errdefs.Message(err), Kind: errdefs.Kind(err)})
}
