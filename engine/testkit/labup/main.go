// Command labup brings up a lab of Budgie nodes on this machine for a
// human (make lab): network namespaces on a bridge, each with its own
// containerd and keeper, a busybox image loaded, and a demo container
// running on each node. It prints how to reach every node and tears the
// lab down on Ctrl-C.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/budgie-sh/budgie/engine/testkit"
)

func main() {
	binary := flag.String("binary", "bin/budgie", "budgie executable the nodes run")
	nodes := flag.Int("nodes", 3, "number of nodes")
	flag.Parse()
	if err := run(*binary, *nodes); err != nil {
		fmt.Fprintln(os.Stderr, "lab:", err)
		os.Exit(1)
	}
}

func run(binary string, nodes int) error {
	bin, err := filepath.Abs(binary)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fmt.Printf("lab: starting %d nodes (a containerd and a keeper each)…\n", nodes)
	lab, err := testkit.StartLab(ctx, testkit.LabOptions{Nodes: nodes, Binary: bin})
	if err != nil {
		return err
	}
	defer lab.Close()
	for _, n := range lab.Nodes {
		if err := n.LoadBusybox(ctx, testkit.ImageOptions{Ref: "localhost/budgie-lab:latest", Cmd: []string{"sleep", "infinity"}}); err != nil {
			return err
		}
		bun := filepath.Join(n.Dir, "demo.bun")
		text := fmt.Sprintf("name: demo-%s\nimage: localhost/budgie-lab:latest\ncommand: [sleep, infinity]\n", n.Name)
		if err := os.WriteFile(bun, []byte(text), 0o644); err != nil {
			return err
		}
		if _, err := n.Budgie(ctx, "run", bun); err != nil {
			return err
		}
	}
	fmt.Printf("\nlab %s is up (bridge %s, nodes on %s):\n\n", lab.Name, lab.Name, "10.231.0.0/24")
	for _, n := range lab.Nodes {
		fmt.Printf("  %s  %-11s open nest:  nsenter --net=/run/netns/%s %s --config %s\n", n.Name, n.Addr, n.NetNS, bin, n.Config)
	}
	n1 := lab.Nodes[0]
	fmt.Printf("\nrun a command on a node, e.g.:\n  nsenter --net=/run/netns/%s %s --headless --config %s chirp\n", n1.NetNS, bin, n1.Config)
	fmt.Printf("  nsenter --net=/run/netns/%s %s --headless --config %s run %s\n", n1.NetNS, bin, n1.Config, filepath.Join(n1.Dir, "demo.bun"))
	fmt.Printf("\nkeeper logs: %s/n*/keeper.log\nCtrl-C tears the lab down.\n", lab.Dir)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	fmt.Println("\nlab: tearing down…")
	return lab.Close()
}
