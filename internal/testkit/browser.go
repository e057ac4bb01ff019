package testkit

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's Chromium, which `make test-deps` installs
// (package chromium). The browser tests drive it headless with chromedp.
const ChromiumPath = "/usr/bin/chromium"

// BrowserOptions configure NewBrowser.
type BrowserOptions struct {
	// IgnoreCertErrors accepts any TLS certificate (a node's self-signed
	// one); the test checks the certificate's fingerprint itself.
	IgnoreCertErrors bool
	// Width and Height are the window's size; zero means 1280×800.
	Width, Height int
}

// NewBrowser starts a headless Chromium with a new, empty profile and
// returns a chromedp context for its first tab. Cancel it to close the
// browser. The flags keep Chromium off the network beyond what the test
// asks for (no background connections, updates or sync), as this
// machine's closed network needs.
func NewBrowser(ctx context.Context, opts BrowserOptions) (context.Context, context.CancelFunc, error) {
	if _, err := exec.LookPath(ChromiumPath); err != nil {
		return nil, nil, fmt.Errorf("chromium is not installed at %s (install it: make test-deps): %w", ChromiumPath, err)
	}
	profile, err := os.MkdirTemp("", "budgie-chromium-*")
	if err != nil {
		return nil, nil, err
	}
	w, h := opts.Width, opts.Height
	if w == 0 {
		w, h = 1280, 800
	}
	flags := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(ChromiumPath),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(w, h),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("ignore-certificate-errors", opts.IgnoreCertErrors),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, flags...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		bcancel()
		acancel()
		os.RemoveAll(profile)
		return nil, nil, fmt.Errorf("start chromium: %w", err)
	}
	return bctx, func() {
		bcancel()
		acancel()
		os.RemoveAll(profile)
	}, nil
}
