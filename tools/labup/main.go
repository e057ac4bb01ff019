// Command labup brings up a lab of Budgie nodes on this machine for a
// human (make lab): network namespaces on a bridge, each with its own
// containerd and keeper, a busybox image loaded, and a demo container
// running on each node. It prints how to reach every node and tears the
// lab down on Ctrl-C.
//
// With -share BUNDLE it also readies the replication demo (vhs/peers.tape):
// node1 runs and shares the bundle (on the demo image), every node
// trusts every other, and it prints a shell command that acts as the
// last node, where the tape is recorded.
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

	"github.com/budgie-sh/budgie/internal/testkit"
)

func main() {
	binary := flag.String("binary", "bin/budgie", "budgie executable the nodes run")
	nodes := flag.Int("nodes", 3, "number of nodes")
	share := flag.String("share", "", "bundle to run and share on node1, every node trusting every other (the replication demo)")
	flag.Parse()
	if err := run(*binary, *nodes, *share); err != nil {
		fmt.Fprintln(os.Stderr, "lab:", err)
		os.Exit(1)
	}
}

func run(binary string, nodes int, share string) error {
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
	if share != "" {
		if err := shareDemo(ctx, lab, share); err != nil {
			return err
		}
	}
	fmt.Printf("\nkeeper logs: %s/n*/keeper.log\nCtrl-C tears the lab down.\n", lab.Dir)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	fmt.Println("\nlab: tearing down…")
	return lab.Close()
}

// shareDemo runs and shares bundle on node1, makes the nodes trust each
// other, and prints how to open a shell as the last node.
func shareDemo(ctx context.Context, lab *testkit.Lab, bundle string) error {
	path, err := filepath.Abs(bundle)
	if err != nil {
		return err
	}
	if err := lab.ShareDemo(ctx, path); err != nil {
		return err
	}
	dir := filepath.Join(lab.Dir, "shell")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	last := lab.Nodes[len(lab.Nodes)-1]
	shell, err := last.ShellCommand(dir, "bash")
	if err != nil {
		return err
	}
	fmt.Printf("\nnode1 runs and shares %s; every node trusts every other.\n", filepath.Base(path))
	fmt.Printf("a shell as %s, where budgie is %s's (record vhs/peers.tape there: cd vhs && ../build/tools/vhs peers.tape):\n  %s\n", last.Name, last.Name, shell)
	return nil
}
