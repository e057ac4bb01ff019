//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/budgie-sh/budgie/internal/testkit"
)

// dashboard is a keeper of the test containerd serving the dashboard on a
// free loopback port, and the environment that reaches it.
type dashboard struct {
	env  []string
	url  string
	keep *exec.Cmd
}

// startDashboard stops whatever keeper the other tests left on the test
// data directory and starts one with the dashboard on a free port.
func startDashboard(t *testing.T) *dashboard {
	t.Helper()
	if err := testkit.StopKeeper(ctrEnv.DataDir); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d := &dashboard{env: append(testEnv(), "BUDGIE_WEB_LISTEN="+addr), url: "http://" + addr}
	d.keep = exec.Command(binary, "--headless", "serve", "--log-file", filepath.Join(ctrEnv.DataDir, "keeper.log"))
	d.keep.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, d.env...)
	if err := d.keep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = d.keep.Process.Signal(syscall.SIGTERM)
		_ = d.keep.Wait()
	})
	return d
}

// link runs `budgie dashboard --no-start --format json` until the new
// keeper's dashboard answers, and returns the one-time login URL.
func (d *dashboard) link(t *testing.T) string {
	t.Helper()
	var last result
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		last = budgieEnv(t, d.env, "dashboard", "--no-start", "--format", "json")
		if last.code != 0 {
			continue
		}
		var l struct {
			URL      string `json:"url"`
			LoginURL string `json:"login_url"`
		}
		if err := json.Unmarshal([]byte(last.stdout), &l); err != nil {
			t.Fatalf("dashboard --format json: %v\n%s", err, last.stdout)
		}
		if l.URL != d.url || !strings.HasPrefix(l.LoginURL, d.url+"/login?token=") {
			t.Fatalf("dashboard printed %q / %q; want the keeper's %s", l.URL, l.LoginURL, d.url)
		}
		return l.LoginURL
	}
	t.Fatalf("the dashboard did not answer: exit %d\n%s%s", last.code, last.stdout, last.stderr)
	return ""
}

// browse opens a headless Chromium for the test.
func browse(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel, err := testkit.NewBrowser(context.Background(), testkit.BrowserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	return ctx
}

// poll waits until the JavaScript predicate holds on the page.
func poll(t *testing.T, ctx context.Context, what, js string, timeout time.Duration) {
	t.Helper()
	var err error
	// A poll does not survive a navigation (a redirect, the login's
	// refresh): poll again in the new document until the deadline.
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		_, err = chromedp.Run(ctx, chromedp.Poll[any](js, chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		var page string
		page, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ""`))
		t.Fatalf("%s: %v\npage text:\n%s", what, err, page)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func browserDo(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// webShot saves the page to $BUDGIE_WEB_SCREENSHOTS/web-NAME.png when
// that variable names a directory (make screenshots sets docs/img).
func webShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("BUDGIE_WEB_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "web-"+name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// rowJS is an expression for the containers table's row of name.
func rowJS(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#rows > tr')].find(r => r.dataset.name === %q)`, name)
}

// stateOf is a container's state as the engine reports it.
func stateOf(t *testing.T, name string) string {
	t.Helper()
	return strings.TrimSpace(must(t, "ps", "-a", "--filter", "name="+name, "--format", "{{.State}}"))
}

// TestWebDashboard drives the dashboard in a real Chromium against a real
// keeper: log in with the one-time link; a container started from the CLI
// appears live (no reload); Stop's confirm defaults to Cancel, and its OK
// stops the container (checked through the engine); the log follows and
// its search finds one line; a bundle with an error shows file:line and
// starts nothing; a good one runs; a secret is created and its value is
// never sent back.
func TestWebDashboard(t *testing.T) {
	d := startDashboard(t)
	loginURL := d.link(t)
	ctx := browse(t)

	browserDo(t, ctx, chromedp.Navigate(loginURL))
	poll(t, ctx, "containers page after login", `location.pathname === '/containers' && document.body.dataset.live === 'on'`, 15*time.Second)
	if again := budgieEnv(t, d.env, "dashboard", "--no-start"); again.code != 0 {
		t.Fatalf("a second link: exit %d %s", again.code, again.stderr)
	}
	eval[bool](t, ctx, `window.__sameDocument = true`)

	path, name := writeBundle(t, "args: [sh, -c, \"i=0; while :; do printf 'tick-%04d\\\\n' $i; i=$((i+1)); sleep 0.1; done\"]\nstop_timeout: 1s\n")
	must(t, "run", path)
	poll(t, ctx, "the container started from the CLI appears, running, without a reload",
		fmt.Sprintf(`(() => { const r = %s; return !!r && r.dataset.state === 'running' && window.__sameDocument === true })()`, rowJS(name)), 10*time.Second)
	poll(t, ctx, "its memory cell fills from the stats stream",
		fmt.Sprintf(`(() => { const r = %s; return !!r && /iB|B$/.test(r.querySelector('[data-stat=mem]').textContent) })()`, rowJS(name)), 10*time.Second)
	webShot(t, ctx, "containers")

	stopButton := fmt.Sprintf(`tr[data-name=%q] button[data-act=stop]`, name)
	browserDo(t, ctx, chromedp.Click(chromedp.CSS(stopButton)), chromedp.WaitVisible(chromedp.ID("confirm")))
	browserDo(t, ctx, chromedp.KeyEvent("\r")) // Enter on the focused default: Cancel
	browserDo(t, ctx, chromedp.WaitNotVisible(chromedp.ID("confirm")))
	time.Sleep(500 * time.Millisecond)
	if st := stateOf(t, name); st != "running" {
		t.Fatalf("after Cancel the container is %q, want running", st)
	}
	browserDo(t, ctx, chromedp.Click(chromedp.CSS(stopButton)), chromedp.WaitVisible(chromedp.ID("confirm")), chromedp.Click(chromedp.ID("confirm-ok")))
	deadline := time.Now().Add(15 * time.Second)
	for stateOf(t, name) != "exited" {
		if time.Now().After(deadline) {
			t.Fatalf("the confirmed Stop did not stop %s: %s", name, stateOf(t, name))
		}
		time.Sleep(100 * time.Millisecond)
	}
	poll(t, ctx, "the row shows the stop", fmt.Sprintf(`%s.dataset.state === 'exited'`, rowJS(name)), 10*time.Second)

	// The container page: start it again from there, follow and search the log.
	browserDo(t, ctx, chromedp.Navigate(d.url+"/containers/"+name))
	poll(t, ctx, "container page", `document.body.dataset.live === 'on' && !!document.querySelector('#state')`, 10*time.Second)
	browserDo(t, ctx, chromedp.Click(chromedp.CSS(`#state button[data-act=start]`)))
	poll(t, ctx, "the state panel shows it running again", `document.querySelector('#state-value').textContent === 'running'`, 10*time.Second)
	poll(t, ctx, "the log follows past the restart", `[...document.querySelectorAll('#log > div')].length > 30`, 15*time.Second)
	browserDo(t, ctx, chromedp.SendKeys(chromedp.ID("log-search"), "tick-0007"))
	poll(t, ctx, "the search keeps the matching lines only",
		`document.querySelector('#log-count').textContent === '2 matching lines' && [...document.querySelectorAll('#log mark')].every(m => m.textContent === 'tick-0007')`, 5*time.Second)
	poll(t, ctx, "a CPU sample reaches the graph", `document.querySelector('#cpu-graph polyline').getAttribute('points').split(' ').length >= 2`, 10*time.Second)
	webShot(t, ctx, "container")

	// Run: a bundle with an error names file:line and starts nothing.
	bad := name + "x"
	browserDo(t, ctx, chromedp.Navigate(d.url+"/run"))
	poll(t, ctx, "run page", `!!document.querySelector('#run-form')`, 10*time.Second)
	browserDo(t, ctx,
		chromedp.SetValue(chromedp.CSS(`input[name=name]`), "broken.bun"),
		chromedp.SetValue(chromedp.CSS(`textarea[name=bundle]`), "name: "+bad+"\nimage: "+cliImage+"\nrestart_policy: sometimes\n"),
		chromedp.Click(chromedp.CSS(`#run-form button`)))
	poll(t, ctx, "the problem is shown with file:line", `!document.querySelector('#problems').hidden && /^broken\.bun:3:\d+: restart_policy/.test(document.querySelector('#problems li').textContent)`, 10*time.Second)
	webShot(t, ctx, "run")
	if r := budgie(t, "inspect", bad); r.code != 3 {
		t.Fatalf("a bad bundle left container %s behind (inspect exit %d)", bad, r.code)
	}
	good := name + "g"
	t.Cleanup(func() { budgie(t, "rm", "-f", good) })
	browserDo(t, ctx,
		chromedp.SetValue(chromedp.CSS(`input[name=name]`), "good.bun"),
		chromedp.SetValue(chromedp.CSS(`textarea[name=bundle]`), "name: "+good+"\nimage: "+cliImage+"\n"),
		chromedp.Click(chromedp.CSS(`#run-form button`)))
	poll(t, ctx, "a good bundle runs and opens its page", fmt.Sprintf(`location.pathname === '/containers/%s'`, good), 20*time.Second)
	if st := stateOf(t, good); st != "running" {
		t.Fatalf("the bundle run from the browser is %q, want running", st)
	}
	// An uploaded .bun wins over the text box and is named by its file.
	upload := filepath.Join(t.TempDir(), "uploaded.bun")
	if err := os.WriteFile(upload, []byte("name: "+bad+"\nmemory: lots\nimage: "+cliImage+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	browserDo(t, ctx, chromedp.Navigate(d.url+"/run"))
	poll(t, ctx, "run page again", `!!document.querySelector('#run-form')`, 10*time.Second)
	browserDo(t, ctx, chromedp.SetUploadFiles(chromedp.CSS(`input[type=file]`), []string{upload}), chromedp.Click(chromedp.CSS(`#run-form button`)))
	poll(t, ctx, "the uploaded file's problem is named by its file and line", `!document.querySelector('#problems').hidden && /^uploaded\.bun:2:/.test(document.querySelector('#problems li').textContent)`, 10*time.Second)

	// Secrets: created from the form; the value never comes back.
	secret, value := "web_"+name, "v4lue-"+name
	t.Cleanup(func() { budgie(t, "secret", "rm", "-f", secret) })
	browserDo(t, ctx, chromedp.Navigate(d.url+"/secrets"))
	poll(t, ctx, "secrets page", `document.body.dataset.live === 'on'`, 10*time.Second)
	browserDo(t, ctx,
		chromedp.SetValue(chromedp.CSS(`input[name=name]`), secret),
		chromedp.SetValue(chromedp.CSS(`textarea[name=value]`), value),
		chromedp.Click(chromedp.CSS(`form[action="/secrets/create"] button`)))
	poll(t, ctx, "the new secret's row appears live", fmt.Sprintf(`[...document.querySelectorAll('#rows > tr')].some(r => r.dataset.name === %q)`, secret), 15*time.Second)
	browserDo(t, ctx, chromedp.Reload())
	poll(t, ctx, "secrets page reloaded", `document.body.dataset.live === 'on'`, 10*time.Second)
	if html := eval[string](t, ctx, `document.documentElement.outerHTML`); strings.Contains(html, value) {
		t.Fatal("the secret's value is in the page")
	}
	if got := strings.TrimSpace(must(t, "secret", "ls", "-q")); !strings.Contains(got, secret) {
		t.Fatalf("secret ls does not list %s: %q", secret, got)
	}
	webShot(t, ctx, "secrets")
	// Images: a pull from a registry shows its layers' progress, and the
	// new image's row appears; Remove (confirmed) removes it.
	reg, err := testkit.StartRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	ref := reg.Addr() + "/web/pulled:1"
	if err := testkit.PushBusybox(ctrEnv.Context(), ctrEnv.Client(), reg, ref, testkit.ImageOptions{Files: map[string]string{"web": "pull"}}); err != nil {
		t.Fatal(err)
	}
	budgie(t, "rmi", ref) // pushing left it in the store; the page pulls it anew
	browserDo(t, ctx, chromedp.Navigate(d.url+"/images"))
	poll(t, ctx, "images page", `document.body.dataset.live === 'on'`, 10*time.Second)
	browserDo(t, ctx, chromedp.SetValue(chromedp.CSS(`input[name=ref]`), ref), chromedp.Click(chromedp.CSS(`form[action="/images/pull"] button`)))
	poll(t, ctx, "the pull's job ends with its layer done",
		`(() => { const j = document.querySelector('#jobs [data-job]'); return !!j && j.dataset.done === 'true' && !j.querySelector('.error') && /done|exists/.test(j.textContent) && !!j.querySelector('progress') })()`, 30*time.Second)
	poll(t, ctx, "the pulled image's row appears", fmt.Sprintf(`[...document.querySelectorAll('#rows > tr')].some(r => r.dataset.name === %q)`, ref), 15*time.Second)
	webShot(t, ctx, "images")
	// Clicked from the page, not through a node ID: the live stream may
	// redraw the row between finding its button and clicking it (CI saw
	// "Could not find node with given id").
	if !eval[bool](t, ctx, fmt.Sprintf(`(() => { const b = document.querySelector('tr[data-name=%q] button.danger'); if (b) b.click(); return !!b })()`, ref)) {
		t.Fatalf("no Remove button on the row of %s", ref)
	}
	browserDo(t, ctx, chromedp.WaitVisible(chromedp.ID("confirm")), chromedp.Click(chromedp.ID("confirm-ok")))
	poll(t, ctx, "the removed image's row goes", fmt.Sprintf(`![...document.querySelectorAll('#rows > tr')].some(r => r.dataset.name === %q)`, ref), 15*time.Second)
	if out := must(t, "images", "--format", "{{.Name}}"); strings.Contains(out, ref) {
		t.Fatalf("the image removed in the browser is still listed:\n%s", out)
	}

	for _, page := range []string{"networks", "peers"} {
		browserDo(t, ctx, chromedp.Navigate(d.url+"/"+page))
		poll(t, ctx, page+" page", `document.body.dataset.live === 'on' && !!document.querySelector('#rows')`, 10*time.Second)
		webShot(t, ctx, page)
	}

	// Every write left an audit line in the keeper's log.
	logText, err := os.ReadFile(filepath.Join(ctrEnv.DataDir, "keeper.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"action=container.stop target=" + name + " client=127.0.0.1 result=ok",
		"action=bundle.run target=broken.bun client=127.0.0.1 result=failed",
		"action=secret.create target=" + secret + " client=127.0.0.1 result=ok",
		"action=image.pull target=" + ref, "action=image.remove target=" + ref,
	} {
		if !strings.Contains(string(logText), want) {
			t.Errorf("keeper.log has no audit line with %q", want)
		}
	}
	if strings.Contains(string(logText), value) {
		t.Error("the secret's value is in keeper.log")
	}

	// Logging out ends the session: the next page is the login.
	browserDo(t, ctx, chromedp.Click(chromedp.CSS(`.logout button`)))
	poll(t, ctx, "logged out", `location.pathname === '/login'`, 10*time.Second)
	browserDo(t, ctx, chromedp.Navigate(d.url+"/containers"))
	poll(t, ctx, "after logout, pages ask for a login", `location.pathname === '/login'`, 10*time.Second)
}

// TestWebDashboardRefusesPlainBeyondLoopback: a dashboard on every
// interface with TLS turned off does not start; the error names the key.
func TestWebDashboardRefusesPlainBeyondLoopback(t *testing.T) {
	r := budgieEnv(t, append(testEnv(), "BUDGIE_WEB_LISTEN=0.0.0.0:18735", "BUDGIE_WEB_TLS=off"), "dashboard", "--no-start")
	if r.code != 2 || !strings.Contains(r.stderr, "BUDGIE_WEB_TLS: off is refused with web.listen 0.0.0.0:18735, beyond loopback") {
		t.Fatalf("plain HTTP beyond loopback: exit %d, stderr %q; want 2 and the refusal", r.code, r.stderr)
	}
}

// TestWebDashboardFromNest: nest's : palette prints a login link (the
// same `budgie dashboard` line), and that link logs a browser in once.
func TestWebDashboardFromNest(t *testing.T) {
	d := startDashboard(t)
	d.link(t) // the keeper's dashboard answers
	listen := strings.TrimPrefix(d.url, "http://")
	p := startPane(t, t.TempDir(), "env BUDGIE_WEB_LISTEN="+listen+" "+binary)
	p.waitFor(20*time.Second, "containerd ")
	p.keys(":")
	p.typeText("dashboard")
	p.keys("Enter")
	screen := p.waitFor(20*time.Second, "Dashboard: "+d.url, "/login?token=")
	link := regexp.MustCompile(`http://127\.0\.0\.1:\d+/login\?token=[A-Za-z0-9_-]{43}`).FindString(screen)
	if link == "" {
		t.Fatalf("no whole login link on the screen:\n%s", screen)
	}
	get := func() *http.Response {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := get(); res.StatusCode != http.StatusOK || len(res.Cookies()) != 1 || res.Cookies()[0].Name != "budgie_session" {
		t.Fatalf("the palette's link: %d with cookies %v; want 200 and a session", res.StatusCode, res.Cookies())
	}
	if res := get(); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the palette's link used twice: %d, want 401", res.StatusCode)
	}
}
