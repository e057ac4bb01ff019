// Command echosrv is the load balancer benchmark's backend: a static HTTP
// server that answers every request with the host name it runs on (a
// replica's name), so that a client sees which backend served it. It goes
// into the bench image beside busybox (CGO_ENABLED=0).
//
//	echosrv [-addr :80]
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", ":80", "listen address")
	flag.Parse()
	name, _ := os.Hostname()
	body := []byte(name + "\n")
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	})
	if err := http.ListenAndServe(*addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "echosrv:", err)
		os.Exit(1)
	}
}
