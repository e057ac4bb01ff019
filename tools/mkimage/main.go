// Command mkimage writes a small OCI image archive built from Debian's
// busybox-static (nothing is downloaded), for the demo and for manual tests:
//
//	go run ./tools/mkimage -ref localhost/budgie-demo:latest -o build/demo.tar
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/budgie-sh/budgie/internal/testkit"
)

func main() {
	ref := flag.String("ref", "localhost/budgie-demo:latest", "image name written into the archive")
	out := flag.String("o", "", "output file (required)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "mkimage: -o FILE is required")
		os.Exit(2)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	index := "<html><body><h1>Hello from a Budgie container</h1></body></html>\n"
	err = testkit.WriteBusyboxArchive(f, testkit.ImageOptions{
		Ref:   *ref,
		Files: map[string]string{"var/www/index.html": index},
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}
