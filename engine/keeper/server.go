package keeper

import (
	"encoding/json"
	"net/http"
)

// handler serves the keeper's API:
//
//	GET /v1/ping    Info
//	GET /v1/state   StateResponse: every supervised container's live state
//	GET /v1/containers  ?limit=N: ContainersResponse, the live container list
//	GET /v1/events  NDJSON stream of Notice until the client goes away
//	GET /v1/peers   PeersResponse: nodes and containers discovered on the LAN
//	POST /v1/publish       PublishRequest → PublishResponse: bind a service's host ports
//	DELETE /v1/publish     ?service=NAME: release them when no container has them
//	GET /v1/services       []models.ServiceStats: the proxy's services and backends
//	GET /v1/replicas       []models.ReplicaStatus: local replicas and their sync
func (k *keeper) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/ping", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, k.info)
	})
	mux.HandleFunc("GET /v1/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, StateResponse{Info: k.info, Containers: k.sup.snapshot()})
	})
	mux.HandleFunc("GET /v1/containers", k.serveContainers)
	mux.HandleFunc("GET /v1/events", k.serveEvents)
	mux.HandleFunc("GET /v1/peers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, k.peers())
	})
	mux.HandleFunc("POST /v1/publish", k.bal.publish)
	mux.HandleFunc("DELETE /v1/publish", k.bal.unpublish)
	mux.HandleFunc("GET /v1/services", k.bal.services)
	mux.HandleFunc("GET /v1/replicas", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, k.replicas())
	})
	return mux
}

func (k *keeper) serveEvents(w http.ResponseWriter, r *http.Request) {
	ch, unsubscribe := k.sup.subscribe()
	defer unsubscribe()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		select {
		case ev := <-ch:
			if err := enc.Encode(ev); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		case <-r.Context().Done():
			return
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
