// Budgie's dashboard script: live rows from the page's event stream,
// confirm dialogs, writes sent with the CSRF token, table filter and sort,
// log search and the CPU/memory graphs. No library, no build step.
// Everything that comes from the server is inserted as text, except rows,
// which the server rendered with html/template.
"use strict";
(function () {
  const csrf = (document.querySelector('meta[name="csrf"]') || {}).content || "";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // ---- toasts ----
  function toast(text, bad) {
    const box = $("#toasts");
    if (!box) return;
    const t = document.createElement("div");
    t.className = "toast" + (bad ? " bad" : "");
    t.textContent = text;
    box.appendChild(t);
    setTimeout(() => t.remove(), bad ? 10000 : 4000);
  }

  // ---- confirm dialog: Cancel is the default ----
  function confirmDialog(text) {
    const d = $("#confirm");
    if (!d || !d.showModal) return Promise.resolve(window.confirm(text));
    $("#confirm-text").textContent = text;
    return new Promise((resolve) => {
      d.addEventListener("close", () => resolve(d.returnValue === "ok"), { once: true });
      d.returnValue = "cancel";
      d.showModal();
    });
  }

  // ---- writes ----
  async function send(form) {
    const body = new FormData(form);
    const res = await fetch(form.action, {
      method: "POST", body, credentials: "same-origin",
      headers: { "X-Budgie-Fetch": "1", "X-CSRF-Token": csrf },
    });
    let data = {};
    try { data = await res.json(); } catch (e) { data = { error: res.status + " " + res.statusText }; }
    if (data.problems) showProblems(data.problems);
    if (!res.ok || data.error) throw new Error(data.error || res.statusText);
    return data;
  }

  // preview asks the server what a write would do (a replication's plan)
  // and returns it as the confirm's text.
  async function preview(form, url) {
    const res = await fetch(url, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Budgie-Fetch": "1", "X-CSRF-Token": csrf },
    });
    const data = await res.json();
    if (!res.ok || data.error) throw new Error(data.error || res.statusText);
    return data.message;
  }

  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    if (form.method !== "post" || form.hasAttribute("data-plain")) return;
    ev.preventDefault();
    let question = form.getAttribute("data-confirm");
    if (form.dataset.preview) {
      try { question = await preview(form, form.dataset.preview); } catch (e) { toast(e.message, true); return; }
    }
    if (question && !(await confirmDialog(question))) return;
    const buttons = $$("button", form);
    buttons.forEach((b) => (b.disabled = true));
    try {
      const data = await send(form);
      const done = form.getAttribute("data-done");
      if (data.message) toast(data.message);
      else if (data.ok) toast((data.name ? data.name + ": " : "") + data.ok);
      if (form.hasAttribute("data-reset")) form.reset();
      const after = data.location || form.getAttribute("data-after");
      if (after) window.location.assign(after);
      else if (done === "reload") window.location.reload();
      showProblems([]);
    } catch (e) {
      toast(e.message, true);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });

  // Container actions are buttons, not forms (a table of 500 rows stays
  // light): the row or panel names the container, the button the action.
  document.addEventListener("click", async (ev) => {
    const b = ev.target.closest("button[data-act]");
    if (!b) return;
    const holder = b.closest("[data-name]");
    if (!holder) return;
    const question = b.dataset.confirm;
    if (question && !(await confirmDialog(question))) return;
    const body = new FormData();
    body.append("_csrf", csrf);
    if (holder.dataset.back) body.append("back", holder.dataset.back);
    b.disabled = true;
    try {
      const res = await fetch("/containers/" + encodeURIComponent(holder.dataset.name) + "/" + b.dataset.act, {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-Budgie-Fetch": "1", "X-CSRF-Token": csrf },
      });
      let data = {};
      try { data = await res.json(); } catch (e) { data = { error: res.status + " " + res.statusText }; }
      if (!res.ok || data.error) throw new Error(data.error || res.statusText);
      toast((data.name ? data.name + ": " : "") + data.ok);
      if (b.dataset.after) window.location.assign(b.dataset.after);
    } catch (e) {
      toast(e.message, true);
    } finally {
      b.disabled = false;
    }
  });

  function showProblems(problems) {
    const box = $("#problems");
    if (!box) return;
    box.textContent = "";
    problems.forEach((p) => {
      const li = document.createElement("li");
      li.textContent = p;
      box.appendChild(li);
    });
    box.hidden = problems.length === 0;
  }

  // ---- rows ----
  // A table of 500 rows stays cheap: rows are found through a map, not a
  // query, and the table is re-sorted at most once a frame, moving rows only
  // when the order changed.
  const stats = new Map(); // key -> last stats cell
  const rowsByKey = new Map(); // key -> its <tr>
  $$("#rows > [data-key]").forEach((r) => rowsByKey.set(r.dataset.key, r));
  function keyed(key) {
    return rowsByKey.get(key);
  }
  // put places a row the stream sent: in its old row's place, or (new) in
  // fresh, to be appended; the filter applies at once, the sort next frame.
  function put(el, fresh) {
    const key = el.dataset.key;
    const old = keyed(key);
    el.hidden = hiddenByFilter(el);
    if (old) {
      if (old.outerHTML === el.outerHTML) return;
      old.replaceWith(el);
    } else fresh.appendChild(el);
    rowsByKey.set(key, el);
    applyStats(el);
    tickUptime(el);
  }
  function upsertAll(rs) {
    const tbody = $("#rows");
    if (!tbody) return;
    const t = document.createElement("template");
    t.innerHTML = rs.map((r) => r.html.trim()).join("");
    const fresh = document.createDocumentFragment();
    Array.from(t.content.children).forEach((el) => put(el, fresh));
    tbody.appendChild(fresh);
    refreshSoon();
  }
  function upsert(r) {
    upsertAll([r]);
  }
  function gone(key) {
    const old = keyed(key);
    if (old) old.remove();
    rowsByKey.delete(key);
    stats.delete(key);
    refreshSoon();
  }
  function applyStats(tr) {
    const s = stats.get(tr.dataset.key);
    const cpu = $("[data-stat=cpu]", tr), mem = $("[data-stat=mem]", tr);
    if (!cpu || !mem) return;
    cpu.textContent = s && s.cpu ? s.cpu : "-";
    mem.textContent = s && s.mem ? s.mem : "-";
    tr.dataset.cpu = s ? s.cpu_value : 0;
    tr.dataset.mem = s ? s.mem_value : 0;
  }

  // ---- filter and sort ----
  // Names compare by code unit, as the server sorts them, so a page drawn
  // in order is not re-sorted.
  let sortKey = "name", sortDir = 1, sortNum = false, refreshing = 0;
  function refreshSoon() {
    if (!refreshing) refreshing = requestAnimationFrame(() => { refreshing = 0; refreshTable(); });
  }
  function compareRows(a, b) {
    const x = a.dataset[sortKey] || "", y = b.dataset[sortKey] || "";
    const c = sortNum ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : (x < y ? -1 : x > y ? 1 : 0);
    const k = a.dataset.key || "", l = b.dataset.key || "";
    return c * sortDir || (k < l ? -1 : k > l ? 1 : 0);
  }
  function filterText() {
    return (($("#filter") || {}).value || "").trim().toLowerCase();
  }
  function hiddenByFilter(r, q) {
    if (q === undefined) q = filterText();
    return q !== "" && !r.textContent.toLowerCase().includes(q);
  }
  function refreshTable() {
    const tbody = $("#rows");
    if (!tbody) return;
    const q = filterText();
    const rows = Array.from(tbody.children);
    let shown = false;
    rows.forEach((r) => {
      const hide = hiddenByFilter(r, q);
      if (r.hidden !== hide) r.hidden = hide;
      shown = shown || !hide;
    });
    const sorted = rows.slice().sort(compareRows);
    if (sorted.some((r, i) => r !== rows[i])) tbody.append(...sorted);
    const empty = $("#empty");
    if (empty) empty.hidden = shown;
  }
  const filter = $("#filter");
  if (filter) filter.addEventListener("input", refreshTable);
  $$("th[data-sort]").forEach((th) => {
    th.tabIndex = 0;
    const go = () => {
      const k = th.dataset.sort;
      sortDir = sortKey === k ? -sortDir : 1;
      sortKey = k;
      sortNum = th.dataset.type === "num";
      $$("th[data-sort]").forEach((o) => o.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      refreshTable();
    };
    th.addEventListener("click", go);
    th.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
  });

  // ---- uptime, counted in the browser ----
  function human(sec) {
    if (sec < 60) return Math.floor(sec) + "s";
    if (sec < 3600) return Math.floor(sec / 60) + "m";
    if (sec < 172800) return Math.floor(sec / 3600) + "h";
    return Math.floor(sec / 86400) + "d";
  }
  function tickUptime(root) {
    const now = Date.now() / 1000;
    $$("[data-since]", root).forEach((td) => {
      const since = parseInt(td.dataset.since, 10);
      const text = since > 0 ? human(now - since) : "";
      if (text && td.textContent !== text) td.textContent = text;
    });
  }
  setInterval(() => tickUptime(document), 5000);

  // ---- log ----
  const log = $("#log");
  const logSearch = $("#log-search");
  let logLines = 0;
  function matchLine(div, q) {
    const text = div.dataset.text;
    div.textContent = "";
    if (!q) { div.textContent = text; div.hidden = false; return true; }
    const i = text.toLowerCase().indexOf(q);
    div.hidden = i < 0;
    if (i < 0) { div.textContent = text; return false; }
    div.append(text.slice(0, i));
    const m = document.createElement("mark");
    m.textContent = text.slice(i, i + q.length);
    div.append(m, text.slice(i + q.length));
    return true;
  }
  function searchLog() {
    if (!log) return;
    const q = (logSearch.value || "").toLowerCase();
    let n = 0;
    $$(":scope > div", log).forEach((d) => { if (matchLine(d, q)) n++; });
    $("#log-count").textContent = q ? n + " matching lines" : "";
  }
  if (logSearch) logSearch.addEventListener("input", searchLog);
  function appendLog(lines) {
    const q = (logSearch.value || "").toLowerCase();
    const frag = document.createDocumentFragment();
    lines.forEach((l) => {
      const d = document.createElement("div");
      d.dataset.text = l.t;
      if (l.s === "stderr") d.className = "stderr";
      matchLine(d, q);
      frag.appendChild(d);
      logLines++;
    });
    log.appendChild(frag);
    while (logLines > 5000) { log.firstElementChild.remove(); logLines--; }
    if (q) searchLog();
    if ($("#log-follow").checked) log.scrollTop = log.scrollHeight;
  }

  // ---- graphs ----
  const samples = [];
  function drawGraph(id, values, top) {
    const svg = $(id);
    if (!svg) return;
    const n = values.length;
    const pts = values.map((v, i) => {
      const x = n < 2 ? 300 : (i / (90 - 1)) * 300 + (90 - n) * (300 / 89);
      const y = 58 - (Math.min(v, top) / top) * 56;
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    $("polyline", svg).setAttribute("points", pts.join(" "));
  }
  function addSample(s) {
    samples.push(s);
    if (samples.length > 90) samples.shift();
    const cpus = samples.map((x) => x.cpu || 0);
    const mems = samples.map((x) => x.mem || 0);
    drawGraph("#cpu-graph", cpus, Math.max(100, ...cpus));
    const limit = s.limit && s.limit < 1 << 50 ? s.limit : Math.max(...mems) * 1.25 || 1;
    drawGraph("#mem-graph", mems, limit);
    $("#cpu-now").textContent = s.cpu !== undefined ? s.cpu.toFixed(1) + "%" : "-";
    $("#mem-now").textContent = bytes(s.mem) + (s.limit ? " / " + bytes(s.limit) : "");
  }
  function bytes(n) {
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return i === 0 ? n + " B" : n.toFixed(1) + " " + u[i];
  }

  // ---- jobs (pulls, replications) ----
  function renderJob(j) {
    const box = $("#jobs");
    if (!box) return;
    let el = $$(":scope > [data-job]", box).find((e) => e.dataset.job === j.id);
    if (!el) {
      el = document.createElement("div");
      el.className = "job";
      el.dataset.job = j.id;
      box.prepend(el);
    }
    el.textContent = "";
    const h = document.createElement("div");
    h.className = "job-title";
    h.textContent = j.title + (j.done ? (j.error ? " — failed" : " — done") : " …");
    el.appendChild(h);
    (j.steps || []).forEach((s) => {
      const line = document.createElement("div");
      line.className = "step";
      const name = document.createElement("span");
      name.textContent = s.name + " " + s.status;
      const bar = document.createElement("progress");
      bar.max = s.total || 1;
      bar.value = s.total ? s.done : (s.status === "done" || s.status === "exists" ? 1 : 0);
      const amount = document.createElement("span");
      amount.className = "dim";
      amount.textContent = s.total ? bytes(s.done) + " / " + bytes(s.total) : "";
      line.append(name, bar, amount);
      el.appendChild(line);
    });
    if (j.error) {
      const e = document.createElement("p");
      e.className = "error";
      e.textContent = j.error;
      el.appendChild(e);
    } else if (j.result) {
      const r = document.createElement(j.link ? "a" : "p");
      r.textContent = j.result;
      if (j.link) r.href = j.link;
      el.appendChild(r);
    }
    el.dataset.done = j.done ? "true" : "false";
  }

  // ---- the page's stream ----
  const section = $("[data-stream]");
  if (section && window.EventSource) {
    const live = $("#live");
    const es = new EventSource(section.dataset.stream);
    es.onopen = () => { if (live) live.className = "live on"; document.body.dataset.live = "on"; };
    es.onerror = () => { if (live) live.className = "live off"; document.body.dataset.live = "off"; };
    const on = (name, f) => es.addEventListener(name, (e) => f(e.data ? JSON.parse(e.data) : null));
    on("row", upsert);
    on("rows", upsertAll);
    on("gone", (d) => gone(d.key));
    on("keep", (keys) => {
      const live = new Set(keys);
      $$("#rows > [data-key]").forEach((r) => { if (!live.has(r.dataset.key)) gone(r.dataset.key); });
    });
    on("stats", (d) => {
      Object.keys(d).forEach((k) => {
        stats.set(k, d[k]);
        const tr = keyed(k);
        if (tr) applyStats(tr);
      });
      if (sortKey === "cpu" || sortKey === "mem") refreshSoon();
    });
    on("notice", (d) => toast(d.error || d.message, !!d.error));
    on("logout", () => window.location.assign("/login"));
    on("state", (d) => { const s = $("#state"); if (s) s.innerHTML = d.html; });
    on("sample", addSample);
    on("log", appendLog);
    on("job", renderJob);
  }
  refreshTable();
  tickUptime(document);
})();
