package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/budgie-sh/budgie/internal/testkit"
)

// The dashboard's goals.
const (
	goalPageReady   = 300 * time.Millisecond
	goalStateChange = 200 * time.Millisecond
	// idleTolerance is how much more of a core (percentage points) the
	// keeper may use at rest with the dashboard on than with it off and
	// still count as unchanged: 6 clock ticks over a 60 s window.
	idleTolerance = 0.1
)

// webScale is what the web row measures: timed page loads, state
// changes, and the keeper's idle window (after a settle of webSettle).
type webScale struct {
	containers, reps, flips int
	idle                    time.Duration
}

// webSettle is how long a keeper runs before its CPU is read, as the
// discovery rows' BenchmarkIdleMulticast settles for 20 s.
const webSettle = 20 * time.Second

// flipName is the container the state-change measure stops and starts; it
// leaves on SIGTERM (a shell trap), so a stop takes no timeout.
const flipName = "web-flip"

// webPopulation makes the containers the ps and nest rows would have made
// when they did not run: running ones for ps, the rest as nest's fill.
func (b *bench) webPopulation(ctx context.Context, have, running, total int, availBefore int64) (string, error) {
	if have < running {
		if err := b.populate(ctx, have, running, true); err != nil {
			return "", err
		}
		have = running
	}
	return b.fillTo(ctx, have, total, availBefore)
}

// webRow measures the dashboard with sc.containers containers: a keeper
// with web.enabled=false at rest, then one serving the dashboard at rest,
// driven by headless Chromium (page loads, state changes), and at rest
// again once the browser is gone.
func (b *bench) webRow(ctx context.Context, sc webScale, population string) (Row, error) {
	if err := testkit.StopKeeper(b.env.DataDir); err != nil {
		return Row{}, fmt.Errorf("web: stop the node's keeper: %w", err)
	}
	var m webMeasures
	off, err := b.startWebKeeper(false)
	if err != nil {
		return Row{}, err
	}
	m.idleOff, err = off.idleCPU(webSettle, sc.idle)
	off.stop()
	if err != nil {
		return Row{}, err
	}
	on, err := b.startWebKeeper(true)
	if err != nil {
		return Row{}, err
	}
	defer on.stop()
	if m.idleOn, err = on.idleCPU(webSettle, sc.idle); err != nil {
		return Row{}, err
	}
	if err := b.browseDashboard(ctx, on, sc, &m); err != nil {
		return Row{}, err
	}
	if m.idleAfter, err = on.idleCPU(webSettle, sc.idle); err != nil {
		return Row{}, err
	}
	return webLines(sc, population, m), nil
}

// webMeasures are the web row's raw figures: page loads (ms since
// navigation start), state-change latencies (s), keeper CPU at rest (%
// of a core) and the browser's clock offset from Go's (s, ± half the
// round trip).
type webMeasures struct {
	loads                      []pageLoad
	flips                      []float64 // clamped at 0
	signed, cmds               []float64 // unclamped latencies; the CLI commands' wall times
	detours                    []string  // changes whose row showed another state on the way
	skew, skewErr              float64
	idleOff, idleOn, idleAfter float64
}

// browseDashboard logs in with a one-time link and takes the page-load and
// state-change measures in one headless Chromium, which it closes.
func (b *bench) browseDashboard(ctx context.Context, k *webKeeper, sc webScale, m *webMeasures) error {
	login, err := k.loginLink()
	if err != nil {
		return err
	}
	bctx, cancel, err := testkit.NewBrowser(ctx, testkit.BrowserOptions{})
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	defer cancel()
	if _, err := chromedp.Call(bctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: fmt.Sprintf(readyScript, sc.containers, pageFirstRows)}); err != nil {
		return fmt.Errorf("web: instrument the page: %w", err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(login)); err != nil {
		return fmt.Errorf("web: open the login link: %w", err)
	}
	if err := waitJS(bctx, `location.pathname === '/containers' && document.body.dataset.live === 'on'`, 30*time.Second); err != nil {
		return fmt.Errorf("web: the login did not open a live containers page: %w", err)
	}
	for i := -1; i < sc.reps; i++ { // one warm-up load
		l, err := loadContainersPage(bctx, k.url+"/containers")
		if err != nil {
			return err
		}
		if i >= 0 {
			m.loads = append(m.loads, l)
			// Each load's parts, so a slow one shows where its time went.
			fmt.Fprintf(os.Stderr, "benchrun: web load %d: first byte %.1f, last byte %.1f, parsed %.1f, DOMContentLoaded %.1f, ready %.1f, first stream rows %.1f, all rows %.1f ms\n",
				i+1, l.TTFB, l.HTML, l.Parsed, l.DOMReady, l.Ready, l.FirstRow, l.Complete)
		}
	}
	return b.flipStates(bctx, sc.flips, m)
}

// pageFirstRows is how many rows the containers page draws itself (web's
// firstRows); its stream sends the rest once it is open.
const pageFirstRows = 50

// readyScript runs in every new document before the page's own script.
// It records, in performance.now() milliseconds since navigation start,
// when the stream is open and the table holds its first min(%[1]d, %[2]d)
// rows by name (ready: the first screens can be read and used), when it
// holds all %[1]d (complete), when the stream's first row event arrived,
// and the time spent in the page's row handlers.
const readyScript = `(() => {
  const want = %[1]d, first = Math.min(want, %[2]d);
  const b = window.__bench = { ready: 0, complete: 0, firstRow: 0, rowMs: 0 };
  const check = () => {
    if (!document.body || document.body.dataset.live !== 'on') return;
    const n = document.querySelectorAll('#rows > tr[data-key][data-name][data-state]').length;
    const now = performance.now();
    if (!b.ready && n >= first) b.ready = now;
    if (!b.complete && n >= want) { b.complete = now; mo.disconnect(); }
  };
  const mo = new MutationObserver(check);
  mo.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-live'] });
  const add = EventSource.prototype.addEventListener;
  EventSource.prototype.addEventListener = function (type, fn, opts) {
    if (type === 'row' || type === 'rows') {
      const inner = fn;
      fn = function () {
        const t0 = performance.now();
        if (!b.firstRow) b.firstRow = t0;
        const r = inner.apply(this, arguments);
        b.rowMs += performance.now() - t0;
        return r;
      };
    }
    return add.call(this, type, fn, opts);
  };
})();`

// pageLoad is one load of the containers page, in milliseconds since
// navigation start, from the page's own clock.
type pageLoad struct {
	Ready    float64 `json:"ready"`    // the first rows in the table, live stream open
	Complete float64 `json:"complete"` // every row in the table
	FirstRow float64 `json:"firstRow"` // the stream's first row event
	RowMs    float64 `json:"rowMs"`    // time in the page's row handlers (a duration)
	TTFB     float64 `json:"ttfb"`     // first byte of the HTML
	HTML     float64 `json:"html"`     // last byte of the HTML
	Parsed   float64 `json:"parsed"`   // the HTML parsed (domInteractive)
	DOMReady float64 `json:"domReady"` // DOMContentLoaded handled (app.js ran)
	Bytes    float64 `json:"bytes"`    // the HTML's size, decoded
	Static   float64 `json:"static"`   // bytes of /static/ files fetched over the network (0: from the cache)
}

// loadTimingJS reads a loaded page's timings once it is complete.
const loadTimingJS = `(() => {
  const n = performance.getEntriesByType('navigation')[0];
  const b = window.__bench;
  return { ready: b.ready, complete: b.complete, firstRow: b.firstRow, rowMs: b.rowMs, ttfb: n.responseStart,
    html: n.responseEnd, parsed: n.domInteractive, domReady: n.domContentLoadedEventEnd, bytes: n.decodedBodySize,
    static: performance.getEntriesByType('resource').filter(e => new URL(e.name).pathname.startsWith('/static/')).reduce((s, e) => s + e.transferSize, 0) };
})()`

// loadContainersPage navigates to url and returns the page's timings once
// every row is in its table.
func loadContainersPage(ctx context.Context, url string) (pageLoad, error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return pageLoad{}, fmt.Errorf("web: navigate to %s: %w", url, err)
	}
	if err := waitJS(ctx, `window.__bench && window.__bench.complete > 0`, time.Minute); err != nil {
		v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify([window.__bench, document.querySelectorAll('#rows > tr').length, document.body.dataset.live])`))
		return pageLoad{}, fmt.Errorf("web: the containers page was not ready (bench, rows, live = %s): %w", v, err)
	}
	l, err := chromedp.Run(ctx, chromedp.Evaluate[pageLoad](loadTimingJS))
	if err != nil {
		return pageLoad{}, fmt.Errorf("web: read the page's timings: %w", err)
	}
	return l, nil
}

// waitJS polls the predicate in the page (every 20 ms) until it holds. A
// poll does not survive a navigation (the login's redirect): it polls
// again in the new document until the deadline.
func waitJS(ctx context.Context, js string, timeout time.Duration) error {
	var err error
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js,
			chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(20*time.Millisecond)))
		if err == nil {
			return nil
		}
	}
	return err
}

// flipScript records, in window.__flips, each state the row of %q shows,
// with the wall-clock time (ms since the epoch) the page saw it.
const flipScript = `(() => {
  const sel = '#rows > tr[data-name=' + JSON.stringify(%q) + ']';
  const flips = window.__flips = [];
  let last = null;
  const look = () => {
    const r = document.querySelector(sel);
    const s = r ? r.dataset.state : '';
    if (s !== last) { last = s; flips.push({ state: s, t: performance.timeOrigin + performance.now() }); }
  };
  new MutationObserver(look).observe(document.getElementById('rows'),
    { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  look();
  return true;
})()`

// flipMark is one state the flipped row showed and when (ms since the
// epoch, browser clock).
type flipMark struct {
	State string  `json:"state"`
	T     float64 `json:"t"`
}

// flipStates runs the flip container, then stops and starts it n times in
// all through the CLI with the containers page open, timing each change
// from the command's return to the row showing the new state.
func (b *bench) flipStates(ctx context.Context, n int, m *webMeasures) error {
	path := filepath.Join(b.work, flipName+".bun")
	bundle := "name: " + flipName + "\nimage: " + image + "\nargs: [sh, -c, \"trap 'exit 0' TERM; while :; do sleep 0.1; done\"]\n"
	if err := os.WriteFile(path, []byte(bundle), 0o644); err != nil {
		return err
	}
	_ = run(b.budgieCmd("rm", "-f", flipName))
	if err := run(b.budgieCmd("run", path)); err != nil {
		return fmt.Errorf("web: run %s: %w", flipName, err)
	}
	defer func() { _ = run(b.budgieCmd("rm", "-f", flipName)) }()
	if err := waitJS(ctx, fmt.Sprintf(`!!document.querySelector('#rows > tr[data-name=%q][data-state=running]')`, flipName), 30*time.Second); err != nil {
		return fmt.Errorf("web: %s's row did not appear running: %w", flipName, err)
	}
	time.Sleep(time.Second) // let the new row's events and a stats tick pass
	var err error
	if m.skew, m.skewErr, err = clockSkew(ctx); err != nil {
		return err
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(flipScript, flipName))); err != nil {
		return fmt.Errorf("web: watch %s's row: %w", flipName, err)
	}
	for i := range n {
		verb, want := "stop", "exited"
		if i%2 == 1 {
			verb, want = "start", "running"
		}
		if err := b.flipOnce(ctx, verb, want, m); err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
	}
	return nil
}

// flipOnce runs `budgie verb web-flip` and records when the page's row
// showed want, relative to the command's return.
func (b *bench) flipOnce(ctx context.Context, verb, want string, m *webMeasures) error {
	start := time.Now()
	if err := run(b.budgieCmd(verb, flipName)); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	done := time.Now()
	if err := waitJS(ctx, fmt.Sprintf(`window.__flips.some(f => f.state === %q)`, want), 30*time.Second); err != nil {
		seen, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.__flips)`))
		return fmt.Errorf("web: the row of %s did not show %s after `budgie %s` (it showed %s): %w", flipName, want, verb, seen, err)
	}
	marks, err := chromedp.Run(ctx, chromedp.Evaluate[[]flipMark](`window.__flips`))
	if err != nil {
		return fmt.Errorf("web: read the row's states: %w", err)
	}
	lat, err := flipLatency(marks, want, done)
	if err != nil {
		return err
	}
	m.signed, m.cmds = append(m.signed, lat), append(m.cmds, done.Sub(start).Seconds())
	m.flips = append(m.flips, max(lat, 0))
	if len(marks) > 2 { // the state before, the one wanted, and more
		m.detours = append(m.detours, fmt.Sprintf("%s: %s", verb, marksStates(marks)))
	}
	// Keep only the state shown now, which the next change leaves.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__flips.splice(0, window.__flips.length - 1), true`))
	return err
}

// marksStates is the states marks show, in order ("running → created → exited").
func marksStates(marks []flipMark) string {
	s := make([]string, len(marks))
	for i, mk := range marks {
		s[i] = mk.State
	}
	return strings.Join(s, " → ")
}

// flipLatency returns the seconds from done (Go's wall clock) to the
// first mark showing want; negative when the page showed it before done.
func flipLatency(marks []flipMark, want string, done time.Time) (float64, error) {
	for _, mk := range marks {
		if mk.State == want {
			return mk.T/1000 - float64(done.UnixNano())/1e9, nil
		}
	}
	return 0, fmt.Errorf("web: the row never showed %q (states seen: %v)", want, marks)
}

// clockSkew is the browser's performance.timeOrigin+performance.now()
// minus Go's time.Now at the middle of the evaluation, in seconds, with
// half the evaluation's round trip as its uncertainty (the best of 5).
func clockSkew(ctx context.Context) (skew, uncertainty float64, err error) {
	uncertainty = math.Inf(1)
	for range 5 {
		before := time.Now()
		t, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.timeOrigin + performance.now()`))
		after := time.Now()
		if err != nil {
			return 0, 0, fmt.Errorf("web: read the browser's clock: %w", err)
		}
		if half := after.Sub(before).Seconds() / 2; half < uncertainty {
			mid := float64(before.UnixNano())/1e9 + half
			skew, uncertainty = t/1000-mid, half
		}
	}
	return skew, uncertainty, nil
}

// webKeeper is a keeper (`budgie --headless serve`) the web row started,
// with the dashboard on 127.0.0.1 at a free port or disabled.
type webKeeper struct {
	b      *bench
	cmd    *exec.Cmd
	env    []string
	url    string
	exited chan struct{}
}

// startWebKeeper starts a keeper of the bench's data directory and waits
// until its API answers.
func (b *bench) startWebKeeper(enabled bool) (*webKeeper, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort())
	k := &webKeeper{b: b, url: "http://" + addr, exited: make(chan struct{}),
		env: append(b.envVars(), "BUDGIE_WEB_LISTEN="+addr, "BUDGIE_WEB_ENABLED="+strconv.FormatBool(enabled))}
	logFile := filepath.Join(b.work, fmt.Sprintf("keeper-web-%v.log", enabled))
	k.cmd = exec.Command(b.budgie, "--headless", "serve", "--log-file", logFile)
	k.cmd.Env, k.cmd.Dir = k.env, b.work
	if err := k.cmd.Start(); err != nil {
		return nil, fmt.Errorf("web: start a keeper: %w", err)
	}
	go func() { _ = k.cmd.Wait(); close(k.exited) }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-k.exited:
			log, _ := os.ReadFile(logFile)
			return nil, fmt.Errorf("web: the keeper (web.enabled=%v) exited at start; its log:\n%s", enabled, log)
		default:
		}
		if pid, _ := testkit.KeeperPid(b.env.DataDir); pid == k.cmd.Process.Pid {
			return k, nil
		}
	}
	k.stop()
	return nil, fmt.Errorf("web: the keeper (web.enabled=%v) did not answer within 30 s (log: %s)", enabled, logFile)
}

// stop ends the keeper with SIGTERM, and SIGKILL after 10 s.
func (k *webKeeper) stop() {
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-k.exited:
	case <-time.After(10 * time.Second):
		_ = k.cmd.Process.Kill()
		<-k.exited
	}
}

// idleCPU waits settle, then returns the keeper's utime+stime over window
// in percent of one core.
func (k *webKeeper) idleCPU(settle, window time.Duration) (float64, error) {
	time.Sleep(settle)
	pid := k.cmd.Process.Pid
	t0, err := cpuTicks(pid)
	start := time.Now()
	if err == nil {
		time.Sleep(window)
		var t1 int64
		if t1, err = cpuTicks(pid); err == nil {
			return float64(t1-t0) / clockTicks / time.Since(start).Seconds() * 100, nil
		}
	}
	return 0, fmt.Errorf("web: the keeper's CPU time: %w", err)
}

// loginLink asks `budgie dashboard --no-start --format json` for a
// one-time login link, retrying while the dashboard does not answer yet.
func (k *webKeeper) loginLink() (string, error) {
	var last error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		cmd := k.b.budgieCmd("dashboard", "--no-start", "--format", "json")
		cmd.Env = k.env
		out, err := cmd.Output()
		if err != nil {
			last = err
			continue
		}
		return parseDashboardLink(out, k.url)
	}
	return "", fmt.Errorf("web: `budgie dashboard --no-start` did not answer within 20 s: %w", last)
}

// parseDashboardLink reads `budgie dashboard --format json` and returns
// its login URL, which must belong to the dashboard at base.
func parseDashboardLink(out []byte, base string) (string, error) {
	var l struct {
		URL      string `json:"url"`
		LoginURL string `json:"login_url"`
	}
	if err := json.Unmarshal(out, &l); err != nil {
		return "", fmt.Errorf("web: unreadable `budgie dashboard --format json` output %q: %w", out, err)
	}
	prefix := base + "/login?token="
	if l.URL != base || !strings.HasPrefix(l.LoginURL, prefix) || len(l.LoginURL) == len(prefix) {
		return "", fmt.Errorf("web: `budgie dashboard` printed %q / %q, not a login link of %s", l.URL, l.LoginURL, base)
	}
	return l.LoginURL, nil
}

// noWebPeer is what the peer column says for the dashboard.
const noWebPeer = "no peer available here"

// webLines assembles the web row from its measures.
func webLines(sc webScale, population string, m webMeasures) Row {
	peer := Absent(noWebPeer)
	ready := Summarize(loadSeconds(m.loads, func(l pageLoad) float64 { return l.Ready }))
	complete := Summarize(loadSeconds(m.loads, func(l pageLoad) float64 { return l.Complete }))
	cmds := Summarize(m.cmds)
	first := min(sc.containers, pageFirstRows)
	loads := fmt.Sprintf("%d loads", ready.N)
	goalReady := fmt.Sprintf("≤ %d ms", goalPageReady.Milliseconds())
	mean, worst := Mean(m.flips), slicesMax(m.flips)
	changes := fmt.Sprintf("%d changes", len(m.flips))
	goalChange := fmt.Sprintf("≤ %d ms", goalStateChange.Milliseconds())
	cpu := func(v float64) Figure { return Figure{Value: v, Unit: Percent} }
	idle := fmt.Sprintf("1 × %.0f s", sc.idle.Seconds())
	goalIdle := fmt.Sprintf("unchanged (at most %.1f %% of a core above the dashboard off)", idleTolerance)
	return Row{
		Title:  fmt.Sprintf("web dashboard with %d containers", sc.containers),
		Budgie: "budgie --headless serve (the keeper's dashboard) in headless Chromium",
		Peer:   "Portainer / Docker Desktop — " + noWebPeer + " (no Docker on this machine)",
		Lines: []Line{
			{Measure: fmt.Sprintf("containers page ready (first %d of %d rows drawn, live), median", first, sc.containers), Budgie: Dur(ready.Median), Peer: peer, Reps: loads,
				Goal: goalReady, Verdict: Verdict(Dur(ready.Median), ready.Median <= goalPageReady.Seconds())},
			{Measure: fmt.Sprintf("containers page ready (first %d of %d rows drawn, live), p95", first, sc.containers), Budgie: Dur(ready.P95), Peer: peer, Reps: loads,
				Goal: goalReady, Verdict: Verdict(Dur(ready.P95), ready.P95 <= goalPageReady.Seconds())},
			{Measure: fmt.Sprintf("all %d rows in the table, median", sc.containers), Budgie: Dur(complete.Median), Peer: peer, Reps: loads},
			{Measure: fmt.Sprintf("all %d rows in the table, p95", sc.containers), Budgie: Dur(complete.P95), Peer: peer, Reps: loads},
			{Measure: "state change reaches the browser, mean", Budgie: Dur(mean), Peer: peer, Reps: changes,
				Goal: goalChange, Verdict: Verdict(Dur(mean), mean <= goalStateChange.Seconds())},
			{Measure: "state change reaches the browser, worst", Budgie: Dur(worst), Peer: peer, Reps: changes,
				Goal: goalChange, Verdict: Verdict(Dur(worst), worst <= goalStateChange.Seconds())},
			{Measure: "state change shown before the CLI returned", Budgie: Figure{Text: fmt.Sprintf("%d of %d", shownEarly(m.signed), len(m.signed))}, Peer: peer, Reps: changes},
			{Measure: fmt.Sprintf("the stop or start command itself (%d containers on the node), median", sc.containers+1), Budgie: Dur(cmds.Median), Peer: peer, Reps: changes},
			{Measure: fmt.Sprintf("the stop or start command itself (%d containers on the node), p95", sc.containers+1), Budgie: Dur(cmds.P95), Peer: peer, Reps: changes},
			{Measure: "keeper CPU at rest, web.enabled=false", Budgie: cpu(m.idleOff), Peer: peer, Reps: idle},
			{Measure: "keeper CPU at rest, dashboard on, no browser yet", Budgie: cpu(m.idleOn), Peer: peer, Reps: idle,
				Goal: goalIdle, Verdict: Verdict(cpu(m.idleOn), idleUnchanged(m.idleOn, m.idleOff))},
			{Measure: "keeper CPU at rest, dashboard on, after the browser left", Budgie: cpu(m.idleAfter), Peer: peer, Reps: idle,
				Goal: goalIdle, Verdict: Verdict(cpu(m.idleAfter), idleUnchanged(m.idleAfter, m.idleOff))},
		},
		Notes: webNotes(sc, population, m),
	}
}

// webNotes say how the web row was measured, with the page load's parts
// and the state changes' details.
func webNotes(sc webScale, population string, m webMeasures) []string {
	part := func(f func(pageLoad) float64) string { return Dur(Median(loadSeconds(m.loads, f))).String() }
	size := 0.0
	if len(m.loads) > 0 {
		size = m.loads[0].Bytes
	}
	early := shownEarly(m.signed)
	detours := "no row showed another state on the way"
	if len(m.detours) > 0 {
		detours = fmt.Sprintf("%d rows showed another state on the way (%s)", len(m.detours), strings.Join(m.detours, "; "))
	}
	return []string{
		"Containers: " + population + ".",
		fmt.Sprintf("Page ready: after logging in with a one-time link (`budgie --headless dashboard --no-start --format json`) and one untimed load, "+
			"%d navigations to /containers; a figure is the page's own clock (`performance.now()`, whose zero is the navigation's start) when a "+
			"MutationObserver, installed before the page's script, first sees `body[data-live=\"on\"]` (the event stream open) and %d "+
			"`#rows > tr` rows, so no DevTools round trip is counted. The page draws the first %d containers by name itself (two screens "+
			"of rows at 1280×800) and its stream sends the rest as soon as it opens, 100 to an event: ready is when the first ones are "+
			"there and live, all rows when the table holds %d. Medians of the parts: first byte of the HTML %s, last byte %s (%.0f KiB), "+
			"HTML parsed %s, DOMContentLoaded handled (app.js ran) %s, ready %s, the stream's first rows %s, all rows %s "+
			"(%s in the row handlers). The stylesheet and script (linked by content hash, cacheable for good) took %.0f B of "+
			"network per load, median (0: the browser's cache served them).",
			len(m.loads), min(sc.containers, pageFirstRows), pageFirstRows, sc.containers, part(func(l pageLoad) float64 { return l.TTFB }),
			part(func(l pageLoad) float64 { return l.HTML }), size/1024, part(func(l pageLoad) float64 { return l.Parsed }),
			part(func(l pageLoad) float64 { return l.DOMReady }), part(func(l pageLoad) float64 { return l.Ready }),
			part(func(l pageLoad) float64 { return l.FirstRow }), part(func(l pageLoad) float64 { return l.Complete }),
			part(func(l pageLoad) float64 { return l.RowMs }), 1000*Median(loadSeconds(m.loads, func(l pageLoad) float64 { return l.Static }))), // loadSeconds divides by 1000
		fmt.Sprintf("State change: with the page open and live, `budgie --headless stop %s` and `budgie --headless start %s` "+
			"alternately, %d commands in all (%s is a busybox shell that exits on SIGTERM: one more row on the page). The clock starts "+
			"when the CLI command returns (Go's `time.Now` once the process exited: the state change is done) and stops when a "+
			"MutationObserver on the table sees the row's `data-state` become `exited` or `running` (`performance.timeOrigin + "+
			"performance.now()` in the page). Both are this machine's wall clock; the browser's read %+.1f ms from Go's (± %.1f ms, "+
			"best of 5 evaluations). A change the page showed before the command returned counts as 0: %d of %d here (unclamped, "+
			"median %s, earliest %s; the commands took %s median). CPU and memory are sampled beside the stream (web/statshub.go), "+
			"so a sample of every container never holds up a state change; %s.",
			flipName, flipName, len(m.flips), flipName, m.skew*1000, m.skewErr*1000, early, len(m.signed),
			signedMs(Median(m.signed)), signedMs(slicesMin(m.signed)), Dur(Median(m.cmds)), detours),
		fmt.Sprintf("Keeper CPU at rest: the measure of the discovery rows' BenchmarkIdleMulticast — %.0f s after the keeper "+
			"(`budgie --headless serve`) started, its utime+stime from /proc/PID/stat over %.0f s, in percent of one core — for a keeper "+
			"with web.enabled=false, then one serving the dashboard on loopback before any browser connected, and the same keeper "+
			"again %.0f s after the browser above closed (its streams ended). Same node, same containers, one keeper at a time.",
			webSettle.Seconds(), sc.idle.Seconds(), webSettle.Seconds()),
	}
}

// loadSeconds is one timing of every load, in seconds.
func loadSeconds(loads []pageLoad, f func(pageLoad) float64) []float64 {
	out := make([]float64, len(loads))
	for i, l := range loads {
		out[i] = f(l) / 1000
	}
	return out
}

// shownEarly counts the changes the page showed before the CLI returned.
func shownEarly(signed []float64) int {
	n := 0
	for _, v := range signed {
		if v < 0 {
			n++
		}
	}
	return n
}

// signedMs renders seconds as signed milliseconds ("-97.5 ms").
func signedMs(s float64) string { return fmt.Sprintf("%+.1f ms", s*1000) }

// idleUnchanged reports whether on (percent of a core) is within
// idleTolerance of off.
func idleUnchanged(on, off float64) bool { return on-off <= idleTolerance+1e-9 }

// Mean returns the arithmetic mean of xs (NaN when xs is empty).
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// slicesMin returns the smallest of xs (NaN when xs is empty).
func slicesMin(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Min(xs)
}

// slicesMax returns the largest of xs (NaN when xs is empty).
func slicesMax(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Max(xs)
}
