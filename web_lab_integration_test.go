//go:build integration

package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// labWebPort is the dashboard's port on every lab node; it listens on
// all of the node's addresses, so it is served over TLS.
const labWebPort = "18734"

// TestWebDashboardLab drives node2's dashboard, served beyond loopback,
// from the host's Chromium across the lab's bridge: the certificate it
// presents is node2's identity and plain HTTP gets no page; node1's
// refused attempt to replicate from node2 shows as a pending request on
// the Peers page, whose Trust (confirmed) trusts node1; "Replicate here"
// on node1's shared container shows the plan, and its OK runs the replica
// on node2 (a job followed to the end, checked with budgie ps) and leaves
// an audit line in node2's keeper log.
func TestWebDashboardLab(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	start := time.Now()
	lab, err := testkit.StartLab(ctx, testkit.LabOptions{Nodes: 2, Binary: binary, Config: "web:\n  listen: \":" + labWebPort + "\"\n"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Errorf("close the lab: %v", err)
		}
	})
	host, leave, err := lab.JoinHost()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := leave(); err != nil {
			t.Errorf("remove the host's address from the lab bridge: %v", err)
		}
	})
	n1, n2 := lab.Nodes[0], lab.Nodes[1]
	id1 := strings.TrimSpace(mustBudgie(ctx, t, n1, "id"))
	id2 := strings.TrimSpace(mustBudgie(ctx, t, n2, "id"))
	addr := net.JoinHostPort(n2.Addr, labWebPort)
	loginURL := labDashboardLink(ctx, t, n2, "https://"+addr, id2)
	checkDashboardCert(t, addr, id2)
	checkPlainHTTPRefused(t, addr)
	t.Logf("lab %s ready in %v; the host is %s on its bridge", lab.Name, time.Since(start).Round(time.Second), host)

	bctx, bcancel, err := testkit.NewBrowser(context.Background(), testkit.BrowserOptions{IgnoreCertErrors: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bcancel)
	browserDo(t, bctx, chromedp.Navigate(loginURL))
	poll(t, bctx, "containers page after login", `location.pathname === '/containers' && document.body.dataset.live === 'on'`, 20*time.Second)
	browserDo(t, bctx, chromedp.Navigate("https://"+addr+"/peers"))
	poll(t, bctx, "peers page", `location.pathname === '/peers' && document.body.dataset.live === 'on' && !!document.querySelector('#rows')`, 15*time.Second)

	testWebTrustRequest(ctx, t, bctx, n1, n2, id1, id2)
	if err := lab.ShareDemo(ctx, mustAbs(t, "vhs/site.bun")); err != nil {
		t.Fatal(err)
	}
	testWebReplicate(ctx, t, bctx, n2)
	checkAudit(t, n2, "peer.trust", id1)
	// The form names the primary's container and node by their IDs, never
	// by the names a node claims; the audit line says what was asked.
	siteID := strings.TrimSpace(mustBudgie(ctx, t, n1, "ps", "-a", "--filter", "name=site", "--format", "{{.ID}}"))
	checkAudit(t, n2, "peer.replicate", siteID+"@")
	t.Logf("total %v", time.Since(start).Round(time.Second))
}

// labDashboardLink runs `budgie dashboard --no-start --format json` on n
// until the keeper's dashboard answers, checks what it printed (a loopback
// https URL, the node's ID as fingerprint) and returns the login link
// moved to base, the node's address on the lab.
func labDashboardLink(ctx context.Context, t *testing.T, n *testkit.LabNode, base, id string) string {
	t.Helper()
	var (
		out string
		err error
	)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if out, err = n.Budgie(ctx, "dashboard", "--no-start", "--format", "json"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("the dashboard of %s did not answer: %v", n.Name, err)
	}
	var l struct {
		URL         string `json:"url"`
		LoginURL    string `json:"login_url"`
		Fingerprint string `json:"fingerprint"`
	}
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("dashboard --format json: %v\n%s", err, out)
	}
	local := "https://127.0.0.1:" + labWebPort
	if l.URL != local || !strings.HasPrefix(l.LoginURL, local+"/login?token=") || l.Fingerprint != id {
		t.Fatalf("%s's dashboard printed %q / %q / fingerprint %q; want %s, its login link, and its ID %s", n.Name, l.URL, l.LoginURL, l.Fingerprint, local, id)
	}
	return base + strings.TrimPrefix(l.LoginURL, local)
}

// checkDashboardCert checks that the certificate the dashboard at addr
// presents hashes to the node ID want (what `budgie id` printed there).
func checkDashboardCert(t *testing.T, addr, want string) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	// The chain is not checked: the certificate is self-signed, and what
	// makes it the node's is its hash, compared below.
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS to the dashboard at %s: %v", addr, err)
	}
	defer conn.Close()
	certs := conn.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		t.Fatalf("the dashboard at %s sent no certificate", addr)
	}
	if got := identity.IDFromCertificate(certs[0].Raw).String(); got != want {
		t.Fatalf("the dashboard at %s presents certificate %s; the node's ID is %s", addr, got, want)
	}
}

// checkPlainHTTPRefused checks that plain HTTP to the dashboard's port
// gets no page: TLS is required beyond loopback.
func checkPlainHTTPRefused(t *testing.T, addr string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("http://" + addr + "/login")
	if err != nil {
		t.Logf("plain HTTP to %s: %v", addr, err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 400 || strings.Contains(string(body), "<form") || strings.Contains(string(body), "<html") {
		t.Fatalf("plain HTTP to %s got %s:\n%s", addr, resp.Status, body)
	}
	t.Logf("plain HTTP to %s: %s %q", addr, resp.Status, strings.TrimSpace(string(body)))
}

// testWebTrustRequest has node1, which trusts node2, try to replicate a
// container node2 shares: node2 refuses it and records a pending
// request, which its Peers page (open in bctx) shows live; Trust, once
// confirmed, makes node2 trust node1. The shared container is removed
// afterwards.
func testWebTrustRequest(ctx context.Context, t *testing.T, bctx context.Context, n1, n2 *testkit.LabNode, id1, id2 string) {
	const image = "localhost/budgie-weblab:latest"
	if err := n2.LoadBusybox(ctx, testkit.ImageOptions{Ref: image, Cmd: []string{"sleep", "3600"}}); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "bait.bun")
	if err := os.WriteFile(bundle, []byte("name: bait\nimage: "+image+"\nstop_timeout: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustBudgie(ctx, t, n2, "run", bundle)
	mustBudgie(ctx, t, n2, "share", "bait")
	mustBudgie(ctx, t, n1, "trust", "add", id2)
	waitAnnounced(ctx, t, n1, "bait", id2)
	if out, err := n1.Budgie(ctx, "chirp", "bait@node2"); err == nil || !strings.Contains(err.Error(), "not trusted by node node2") {
		t.Fatalf("node1 replicating from node2, which does not trust it: out %q, err %v", out, err)
	}

	row := fmt.Sprintf(`#rows > tr[data-key="p-%s"]`, id1)
	poll(t, bctx, "node1's pending request appears on node2's Peers page",
		fmt.Sprintf(`(() => { const r = document.querySelector(%q); return !!r && r.textContent.includes(%q) && r.dataset.node === 'node1' })()`, row, "asks to be trusted: "+id1), 15*time.Second)
	browserDo(t, bctx, chromedp.Click(chromedp.CSS(row+` form[action="/peers/trust"] button`)))
	poll(t, bctx, "the Trust confirm", `document.querySelector('#confirm').open`, 10*time.Second)
	if text := eval[string](t, bctx, `document.querySelector('#confirm-text').textContent`); !strings.Contains(text, id1) {
		t.Fatalf("the Trust confirm does not show node1's ID %s: %q", id1, text)
	}
	browserDo(t, bctx, chromedp.Click(chromedp.ID("confirm-ok")))
	waitTrusted(ctx, t, n2, id1)
	poll(t, bctx, "the pending row goes once node1 is trusted", fmt.Sprintf(`!document.querySelector(%q)`, row), 15*time.Second)
	mustBudgie(ctx, t, n2, "rm", "-f", "bait") // its part is done
	poll(t, bctx, "the removed bait's row goes", `!document.querySelector('#rows > tr[data-name="bait"]')`, 15*time.Second)
}

// waitTrusted waits until `budgie trust ls` on n lists id as trusted.
func waitTrusted(ctx context.Context, t *testing.T, n *testkit.LabNode, id string) {
	t.Helper()
	var list models.TrustList
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		list = models.TrustList{}
		if err := json.Unmarshal([]byte(mustBudgie(ctx, t, n, "trust", "ls", "--format", "json")), &list); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(list.Trusted, func(p models.TrustedPeer) bool { return p.ID == id }) {
			return
		}
	}
	t.Fatalf("%s does not trust %s after the dashboard's Trust: %+v", n.Name, id, list)
}

// testWebReplicate clicks "Replicate here" on node1's site row of node2's
// Peers page, checks the plan the confirm shows, confirms, follows the
// job to its end and checks that the replica runs on node2.
func testWebReplicate(ctx context.Context, t *testing.T, bctx context.Context, n2 *testkit.LabNode) {
	button := `#rows > tr[data-node="node1"][data-name="site"] form[action="/peers/replicate"] button`
	poll(t, bctx, "node1's site row offers Replicate here", fmt.Sprintf(`!!document.querySelector(%q)`, button), 20*time.Second)
	browserDo(t, bctx, chromedp.Click(chromedp.CSS(button)))
	poll(t, bctx, "the confirm with the plan", `document.querySelector('#confirm').open`, 30*time.Second)
	plan := eval[string](t, bctx, `document.querySelector('#confirm-text').textContent`)
	t.Logf("plan:\n%s", plan)
	if !strings.Contains(plan, "Replicate site from node1 to this node as site?") || !strings.Contains(plan, "Volume site:") {
		t.Fatalf("the confirm does not show the plan of site from node1: %q", plan)
	}
	browserDo(t, bctx, chromedp.Click(chromedp.ID("confirm-ok")))
	poll(t, bctx, "the replication job finishes",
		`(() => { const j = document.querySelector('#jobs > [data-job]'); return !!j && j.dataset.done === 'true' })()`, 2*time.Minute)
	if job := eval[string](t, bctx, `document.querySelector('#jobs > [data-job]').innerText`); strings.Contains(job, "failed") || !strings.Contains(job, "running here as site") {
		t.Fatalf("the replication job did not succeed: %q", job)
	}
	if ps := mustBudgie(ctx, t, n2, "ps", "--format", "{{.Name}} {{.State}}"); !strings.Contains(ps, "site running") {
		t.Fatalf("node2 runs no replica named site: %q", ps)
	}
	webShot(t, bctx, "peers-replicate")
}

// checkAudit checks that n's keeper log has a successful audit line of
// the dashboard's action on a target that starts with target.
func checkAudit(t *testing.T, n *testkit.LabNode, action, target string) {
	t.Helper()
	path := filepath.Join(n.Dir, "keeper.log") // the lab's keepers log there (stderr)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, `msg="dashboard audit"`) && strings.Contains(line, " action="+action+" ") &&
			strings.Contains(line, " target="+target) && strings.HasSuffix(line, " result=ok") {
			return
		}
	}
	t.Fatalf("%s has no audit line of %s on %s with result=ok", path, action, target)
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
