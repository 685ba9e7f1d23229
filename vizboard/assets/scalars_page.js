/* vizboard's Scalars page in the browser: run list (virtualised), sections and cards drawn with Plotly.js.
 *
 * The browser does the interaction, the server does the data (DESIGN.md §3). This module
 * fetches /api/page/init as soon as it runs (before Dash has rendered), then owns the
 * run list (#vb-runs-root) and the Scalars cards (#vb-scalars-root). Ticking runs, the
 * run regex, the tag regex, colours, log axes, the x-axis mode, legend and hover never
 * ask the server; missing series are fetched in batches from /api/page/series
 * (downsampled, smoothed on the full series server-side); cards are drawn only when
 * they scroll into view (IntersectionObserver). Live updates ask /api/page/changes
 * for the series changed since the drawn version. Dash controls reach this module
 * through clientside callbacks (window.dash_clientside.vbpage) and the selection goes
 * back to Dash's stores with dash_clientside.set_props, for the server-driven tabs.
 * Lines are SVG scatter traces: scattergl measured 2-3x slower here (headless Chromium draws
 * WebGL in software, and each card would hold a GL context). Sections show all their cards
 * (no pages): a card off screen is an empty box until it scrolls onto the screen; its series are
 * fetched ahead once it is within 150 px of it. Drawing: cards on screen go through a draw queue
 * drawn in 50 ms time slices; a selection change updates the run list at once and the cards in
 * a next task; with smoothing on, faded raw lines are drawn only for cards of <= 10 lines.
 * DOM hooks for benchmarks and tests: see UI-CONTRACT (data-vb-run, data-vb-card,
 * data-vb-drawn, data-vb-section, body.dataset.vbVersion).
 * Live: the page's own long poll (/api/page/live) brings new points with their series; each
 * card's x zoom lives in the URL (zoom=x0,x1,card key). Over 500 lines because one closure owns
 * the page's state (selection, series cache, cards, live loop) that every part reads; splitting
 * it means a shared-state module first (not done yet).
 */
(function () {
  "use strict";
  var ROW_H = 22;
  var FIRST_CARDS = 2;
  var base = window.location.pathname.replace(/\/+$/, "");
  var q0 = new URLSearchParams(window.location.search);
  q0.delete("token");

  function flag(list, name) { return list.indexOf(name) >= 0; }
  /* Extension point (assets/scalars_compare.js fills it; every hook optional): sections(list) -> list,
     cardTools(card, toolsEl), draw(card, lines) -> null (default draw) | {wait: true} | {sig, data, layout},
     owns() -> true while draw() fetches and draws every card itself (nothing is fetched ahead),
     relayout(card, ev) -> true when handled, hover(card, ev) / unhover(card), drawn(card), mount(rootEl),
     init(window.vbScalars), changed() after a selection/structure/settings change. */
  var X = window.vbScalarsHooks = window.vbScalarsHooks || {};
  var opt0 = q0.getAll("opt");
  var S = {
    runs: [], colors: [], runIdx: new Map(), sections: [], hash: "", version: -1, drawnVersion: -1,
    filter: q0.get("run_re") || "",
    mode: (q0.has("run") || q0.get("runs") === "none") ? "list" : "all",
    on: new Set(q0.getAll("run")), off: new Set(q0.getAll("run_off")),
    tagRe: q0.get("tag_re") || "", smooth: q0.get("smooth") || "ema",
    w: q0.has("w") ? Math.min(Math.max(parseFloat(q0.get("w")) || 0, 0), 0.999) : 0.6,
    xAxis: q0.get("x") || "step", logX: flag(opt0, "log_x"), logY: flag(opt0, "log_y"), outliers: flag(opt0, "outliers"),
    theme: document.documentElement.getAttribute("data-theme") || "light",
    activeTab: q0.get("tab") || "scalars",
    series: new Map(), cards: new Map(), openSec: new Map(), shown: [], selected: [], selectedSet: new Set(),
    pending: new Map(), absent: new Set(), flushTimer: null, maxPoints: 1500, ready: false, liveBusy: false, nextVersion: null,
    lastPushed: null
  };
  if (isNaN(S.w)) { S.w = 0.6; }
  /* zoom=<x0>,<x1>,<card key>: a card's x range (data units of the URL's x axis), restored on load */
  S.zoomUrl = new Map();
  q0.getAll("zoom").forEach(function (z) {
    var p = z.split(","), a = parseFloat(p[0]), b = parseFloat(p[1]);
    if (p.length >= 3 && isFinite(a) && isFinite(b) && a !== b) { S.zoomUrl.set(p.slice(2).join(","), [Math.min(a, b), Math.max(a, b)]); }
  });

  function mark(name) { try { performance.mark(name); } catch (e) { /* old browsers */ } }
  function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
  function compileFilter(p) {
    if (!p) { return function () { return true; }; }
    var rx;
    try { rx = new RegExp(p, "i"); } catch (e) { rx = new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i"); }
    return function (s) { return rx.test(s); };
  }
  function skey(run, tag) { return run + "\u0000" + tag; }
  function settingsKey() {  /* asked per line many times per draw pass (10,000 lines): built once per change */
    var m = S.skMemo;
    if (!m || m[0] !== S.smooth || m[1] !== S.w || m[2] !== S.maxPoints) {
      m = S.skMemo = [S.smooth, S.w, S.maxPoints, S.smooth + "|" + S.w.toFixed(6) + "|" + S.maxPoints];
    }
    return m[3];
  }
  function b64(str, Ctor) {
    var bin = atob(str), n = bin.length, u8 = new Uint8Array(n);
    for (var i = 0; i < n; i++) { u8[i] = bin.charCodeAt(i); }
    return new Ctor(u8.buffer);
  }
  function unpack(o) {
    return {run: o.run, tag: o.tag, version: o.version, n: o.n, t0: o.t0,
            step: o.si !== undefined ? b64(o.si, Int32Array) : b64(o.s, Float64Array), rel: b64(o.t, Float32Array),
            value: b64(o.v, Float32Array), sm: o.m ? b64(o.m, Float32Array) : null};
  }
  function api(path, body, signal) {
    var init = {credentials: "same-origin", cache: "no-store"};
    if (signal) { init.signal = signal; }
    if (body) { init.method = "POST"; init.headers = {"Content-Type": "application/json"}; init.body = JSON.stringify(body); }
    return fetch(base + path, init).then(function (r) {
      if (!r.ok) { throw new Error(path + ": HTTP " + r.status); }
      return r.json();
    });
  }

  /* ---- first request: starts before Dash renders anything ---- */
  var initPromise = window.__vbInit;  /* started by an inline script in the index page's <head> */
  if (!initPromise) {
    var initQ = new URLSearchParams(q0.toString());
    initQ.set("n", String(FIRST_CARDS));
    initPromise = api("/api/page/init?" + initQ.toString());
  }

  /* ---- selection ---- */
  function isTicked(run) { return S.mode === "list" ? S.on.has(run) : !S.off.has(run); }
  function computeSelection() {
    var keep = compileFilter(S.filter);
    S.shown = S.runs.filter(keep);
    S.selected = S.shown.filter(isTicked);
    S.selectedSet = new Set(S.selected);
  }
  function writeUrl() {
    var q = new URLSearchParams(window.location.search);
    ["run_re", "run", "run_off", "runs", "zoom"].forEach(function (k) { q.delete(k); });
    if (S.filter) { q.set("run_re", S.filter); }
    if (S.mode === "all") { Array.from(S.off).sort().forEach(function (r) { q.append("run_off", r); }); }
    else if (S.on.size) { Array.from(S.on).sort().forEach(function (r) { q.append("run", r); }); }
    else { q.set("runs", "none"); }
    var zooms = new Map(S.zoomUrl);
    S.cards.forEach(function (c, key) { if (c.zoom) { zooms.set(key, c.zoom.range); } });
    zooms.forEach(function (r, key) {
      q.append("zoom", Number(r[0].toPrecision(12)) + "," + Number(r[1].toPrecision(12)) + "," + key);
    });
    var s = q.toString();
    window.history.replaceState(window.history.state, "", window.location.pathname + (s ? "?" + s : "") + window.location.hash);
  }
  function pushSelectionToDash(force) {
    if (!window.dash_clientside || !window.dash_clientside.set_props) { return; }
    if (!force && S.activeTab === "scalars") { return; }  // server tabs get it when they are shown
    var key = JSON.stringify(S.selected);
    if (key === S.lastPushed) { return; }
    S.lastPushed = key;
    window.dash_clientside.set_props("shell-selected-runs", {data: S.selected.slice()});
  }
  /* The run list is updated at once; the cards in a next task, so the list is painted before
     Plotly's (synchronous) redraw of the cards, which can take seconds over thousands of runs. */
  function selectionChanged() {
    computeSelection();
    renderRunList();
    writeUrl();
    pushSelectionToDash(false);
    if (X.changed) { X.changed(); }
    if (!S.refreshTimer) { S.refreshTimer = setTimeout(function () { S.refreshTimer = null; refreshCards(); }, 0); }
  }

  /* ---- run list (virtualised) ---- */
  var runsEl = null, listEl = null, spacer = null, countEl = null, filterEl = null;
  function buildRunList(root) {
    root.textContent = "";
    var title = document.createElement("div"); title.className = "vb-side-title"; title.textContent = "Runs";
    filterEl = document.createElement("input");
    filterEl.id = "shell-run-filter"; filterEl.type = "text"; filterEl.className = "vb-input";
    filterEl.placeholder = "Filter runs (regex)"; filterEl.value = S.filter; filterEl.autocomplete = "off";
    /* applied at once: the cards' redraw is coalesced in selectionChanged, the list is cheap */
    filterEl.addEventListener("input", function () {
      mark("vb:filter"); S.filter = filterEl.value; selectionChanged();
    });
    var buttons = document.createElement("div"); buttons.className = "vb-run-buttons";
    function button(id, text, tip, fn) {
      var b = document.createElement("button"); b.id = id; b.className = "vb-tool"; b.textContent = text; b.title = tip;
      b.addEventListener("click", fn); buttons.appendChild(b);
    }
    button("shell-run-all", "All", "Tick every run", function () { S.mode = "all"; S.off = new Set(); selectionChanged(); });
    button("shell-run-none", "None", "Untick every run", function () { S.mode = "list"; S.on = new Set(); selectionChanged(); });
    countEl = document.createElement("span"); countEl.id = "shell-run-count"; countEl.className = "vb-run-count";
    buttons.appendChild(countEl);
    listEl = document.createElement("div"); listEl.id = "shell-run-checklist"; listEl.className = "vb-run-list";
    spacer = document.createElement("div"); spacer.className = "vb-run-spacer";
    listEl.appendChild(spacer);
    listEl.addEventListener("scroll", function () { renderRunRows(); }, {passive: true});
    listEl.addEventListener("change", function (ev) {
      var t = ev.target;
      if (!t || t.type !== "checkbox") { return; }
      var run = t.value;
      mark("vb:tick");
      if (S.mode === "list") { if (t.checked) { S.on.add(run); } else { S.on.delete(run); } }
      else if (t.checked) { S.off.delete(run); } else { S.off.add(run); }
      selectionChanged();
    });
    root.appendChild(title); root.appendChild(filterEl); root.appendChild(buttons); root.appendChild(listEl);
    runsEl = root;
  }
  function renderRunList() {
    if (!listEl) { return; }
    countEl.textContent = S.shown.length + " of " + S.runs.length + " runs \u00b7 " + S.selected.length + " selected";
    spacer.style.height = (S.shown.length * ROW_H) + "px";
    renderRunRows(true);
  }
  function renderRunRows(force) {
    var top = listEl.scrollTop, h = listEl.clientHeight || 600;
    var first = Math.max(0, Math.floor(top / ROW_H) - 10), last = Math.min(S.shown.length, Math.ceil((top + h) / ROW_H) + 10);
    var sig = first + ":" + last;
    if (!force && listEl.dataset.window === sig) { return; }
    listEl.dataset.window = sig;
    var keep = new Map();
    Array.from(listEl.querySelectorAll("label.vb-run-row")).forEach(function (el) { keep.set(el.dataset.vbRun, el); });
    for (var i = first; i < last; i++) {
      var run = S.shown[i], el = keep.get(run);
      if (el) { keep.delete(run); } else {
        el = document.createElement("label"); el.className = "vb-run-row"; el.dataset.vbRun = run; el.title = run;
        var cb = document.createElement("input"); cb.type = "checkbox"; cb.value = run;
        var lab = document.createElement("span"); lab.className = "vb-run-label"; lab.textContent = run;
        var c = S.colors[S.runIdx.get(run)] || "#888";
        cb.style.accentColor = c; lab.style.setProperty("--vb-c", c);
        el.appendChild(cb); el.appendChild(lab); listEl.appendChild(el);
      }
      el.style.top = (i * ROW_H) + "px";
      var box = el.firstChild, want = isTicked(run);
      if (box.checked !== want) { box.checked = want; }
    }
    keep.forEach(function (el) { el.remove(); });
  }

  /* ---- sections and cards ---- */
  var scalarsEl = null, observer = null, screenObserver = null;
  function cardLines(spec) {
    var out = [], nSel = S.selected.length, dashes = ["solid", "dash", "dot", "dashdot", "longdash"], sufIdx = new Map();
    spec.lines.forEach(function (ln) {
      var run = S.runs[ln[0]];
      if (!S.selectedSet.has(run)) { return; }
      var label = spec.kind === "chart" ? (nSel === 1 ? ln[2] : run + ": " + ln[2]) : ln[2];
      var dash = "solid";
      if (spec.kind !== "tag") {
        if (!sufIdx.has(ln[1])) { sufIdx.set(ln[1], sufIdx.size); }
        dash = dashes[sufIdx.get(ln[1]) % dashes.length];
      }
      out.push({run: run, tag: ln[1], label: label, color: S.colors[ln[0]], dash: dash});
    });
    return out;
  }
  function makeCard(spec) {
    var el = document.createElement("div");
    el.className = "vb-card vb-chart-card"; el.dataset.vbCard = spec.key;
    var head = document.createElement("div"); head.className = "vb-card-head";
    var t = document.createElement("span"); t.className = "vb-card-title"; t.textContent = spec.title; t.title = spec.title;
    var tools = document.createElement("div"); tools.className = "vb-card-tools";
    var card = {spec: spec, el: el, gd: null, visible: false, onScreen: false, sig: null, drawing: null, again: false, zoom: null, yzoom: null};
    var z0 = S.zoomUrl.get(spec.key);
    if (z0) {  /* from the URL: fetched at full resolution when the card is first drawn */
      card.zoom = {range: z0, plotRange: null, key: z0.join(":"), data: new Map(), pending: true, fetch: true, unit: null};
      S.zoomUrl.delete(spec.key);
    }
    [["CSV", "Download the full-resolution data as CSV", function () { download(card, "csv"); }],
     ["JSON", "Download the full-resolution data as JSON", function () { download(card, "json"); }],
     ["SVG", "Download the chart as SVG (PNG: camera icon)", function () {
       if (card.gd && window.vbPlotly) { window.vbPlotly.downloadImage(card.gd, {format: "svg", filename: fileName(spec.title)}); }
     }],
     ["\u2922", "Full screen (toggle)", function () {
       el.classList.toggle("vb-fullscreen");
       if (card.gd && window.vbPlotly) { window.vbPlotly.Plots.resize(card.gd); }
     }]].forEach(function (b) {
      var btn = document.createElement("button"); btn.className = "vb-tool"; btn.textContent = b[0]; btn.title = b[1];
      btn.addEventListener("click", b[2]); tools.appendChild(btn);
    });
    if (X.cardTools) { X.cardTools(card, tools); }
    head.appendChild(t); head.appendChild(tools);
    var g = document.createElement("div"); g.className = "vb-graph"; g.style.height = "320px";
    el.appendChild(head); el.appendChild(g);
    card.graphEl = g;
    return card;
  }
  function fileName(title) { return title.replace(/[^A-Za-z0-9_-]/g, "_") || "scalars"; }
  function download(card, fmt) {
    var items = cardLines(card.spec).map(function (l) { return [l.run, l.tag]; });
    fetch(base + "/api/page/download", {method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({items: items, format: fmt})}).then(function (r) { return r.blob(); }).then(function (blob) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob); a.download = fileName(card.spec.title) + "." + fmt;
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
    });
  }
  function buildSections() {
    if (!scalarsEl) { return; }
    var keepTag = compileFilter(S.tagRe);
    var wantSecs = [], any = false, seen = new Set();
    (X.sections ? X.sections(S.sections) : S.sections).forEach(function (sec) {
      var cards = sec.cards.filter(function (c) {
        if (!sec.keepAll && c.np <= 1 && /^hparams?\//.test(c.title)) { return false; }  /* one-point hparam metrics: see HParams */
        return (sec.keepAll || keepTag(c.title)) && c.lines.some(function (ln) { return S.selectedSet.has(S.runs[ln[0]]); });
      });
      if (!cards.length) { return; }
      any = true;
      if (!S.openSec.has(sec.key)) { S.openSec.set(sec.key, sec.open); }
      var open = S.openSec.get(sec.key);
      var secEl = sec._el;
      if (!secEl) {
        secEl = sec._el = document.createElement("section");
        secEl.className = "vb-section"; secEl.dataset.vbSection = sec.name;
        var btn = document.createElement("button"); btn.className = "vb-section-head";
        btn.addEventListener("click", function () { S.openSec.set(sec.key, !S.openSec.get(sec.key)); buildSections(); });
        var body = document.createElement("div"); body.className = "vb-section-body";
        secEl.appendChild(btn); secEl.appendChild(body);
      }
      secEl.firstChild.textContent = (open ? "\u25be " : "\u25b8 ") + sec.name + " (" + cards.length + ")";
      var bodyEl = secEl.lastChild;
      bodyEl.hidden = !open;
      var want = [];
      if (open) {
        cards.forEach(function (spec) {
          var card = S.cards.get(spec.key);
          if (!card) { card = makeCard(spec); S.cards.set(spec.key, card); observer.observe(card.el); screenObserver.observe(card.el); }
          card.spec = spec;
          seen.add(spec.key);
          want.push(card.el);
        });
      }
      var cur = Array.from(bodyEl.children);
      if (cur.length !== want.length || cur.some(function (e, i) { return e !== want[i]; })) {
        bodyEl.textContent = "";
        want.forEach(function (e) { bodyEl.appendChild(e); });
      }
      wantSecs.push(secEl);
    });
    S.cards.forEach(function (card, key) { if (!seen.has(key)) { card.hidden = true; } else { card.hidden = false; } });
    var curSecs = Array.from(scalarsEl.children);
    if (!any || curSecs.length !== wantSecs.length || curSecs.some(function (e, i) { return e !== wantSecs[i]; })) {
      scalarsEl.textContent = "";  /* only when the list of sections changed: moving charts costs a reflow */
      if (!any) {
        var p = document.createElement("p"); p.className = "vb-empty";
        p.textContent = S.runs.length ? "No scalar data for the selected runs and filter." : "No scalar data yet.";
        scalarsEl.appendChild(p);
      }
      wantSecs.forEach(function (e) { scalarsEl.appendChild(e); });
    }
    drawCards();
    noteDrawn();
  }
  function refreshCards() { buildSections(); }
  /* Only cards on screen are (re)drawn; cards in the observer's 150 px margin (not on screen yet)
     get their series fetched ahead, and are drawn when they scroll onto the screen (screenObserver).
     A Plotly draw is one uninterruptible task (60-120 ms at 30 runs): drawn ahead in idle periods,
     margin cards held up the next key typed into the run filter, and after a page load they were
     drawn just when a user (or the benchmark) starts typing. A card keeps its previous
     data-vb-drawn until it is redrawn. */
  function drawCards() {
    var now = [];
    S.cards.forEach(function (card) {
      if (!card.visible || card.hidden) { return; }
      if (card.onScreen) { now.push(card); } else { ensureDrawn(card); }  /* off screen: fetch only */
    });
    drawSoon(now, true);
  }
  /* The draw queue, in time slices: cards are drawn in order until DRAW_SLICE_MS of a task is
     spent, or until an input event is waiting (navigator.scheduling.isInputPending, where the
     browser has it), the rest in next tasks. A card's draw promise resolves (data-vb-drawn) at
     the end of its slice, and input events and frames get in between slices: over 1,000 runs
     one card's draw is ~1 s, and the first card no longer waits for the second one's; a key
     typed into the run filter is handled after the card being drawn, not after the slice. */
  var DRAW_SLICE_MS = 50;
  S.drawQ = [];
  function inputPending() {
    var sch = navigator.scheduling;
    return !!(sch && sch.isInputPending && sch.isInputPending());
  }
  /* queue with cards put first or last, each once */
  function requeue(queue, cards, first) {
    var add = new Set(cards), rest = queue.filter(function (c) { return !add.has(c); });
    return first ? cards.concat(rest) : rest.concat(cards);
  }
  function drawSoon(cards, now) {
    S.drawQ = requeue(S.drawQ, cards, now);
    if (now) { clearTimeout(S.drawTimer); pumpDraws(); }
    else if (!S.drawTimer && S.drawQ.length) { S.drawTimer = setTimeout(pumpDraws, 0); }
  }
  /* Before Dash has mounted its layout, only the first card is drawn (the first curve); the
     others wait for the mount (at most SHELL_WAIT_MS), so Dash's boot (its bundles, layout,
     first render) runs right after the first curve instead of after the whole first screen,
     and the first screen is complete - header, tabs, run list and charts - with the page
     quiet, instead of the shell being rendered in the way of the first keys typed. */
  var SHELL_WAIT_MS = 1500;
  function holdForShell() {
    if (!early || !S.earlyDrawn || S.shellWaitOver) { return false; }
    if (!S.shellTimer) { S.shellTimer = setTimeout(function () { S.shellWaitOver = true; pumpDraws(); }, SHELL_WAIT_MS); }
    return true;
  }
  function pumpDraws() {
    S.drawTimer = null;
    var t0 = performance.now();
    while (S.drawQ.length && performance.now() - t0 < DRAW_SLICE_MS) {
      if (holdForShell()) { return; }
      var c = S.drawQ.shift();
      if (c.visible && !c.hidden) { ensureDrawn(c); }
      if (inputPending()) { break; }
    }
    if (S.drawQ.length) { S.drawTimer = setTimeout(pumpDraws, 0); }
    noteDrawn();
  }

  /* ---- data ---- */
  function seriesFor(run, tag) {
    var s = S.series.get(skey(run, tag));
    return s && s.settings === settingsKey() ? s : null;
  }
  function need(card) {  /* lines to fetch (absent or stale); .waiting: how many of them have nothing to draw yet */
    var lines = cardLines(card.spec), missing = [], sk = settingsKey(), waiting = 0;
    lines.forEach(function (l) {
      var s = seriesFor(l.run, l.tag);
      if (!s && !S.absent.has(skey(l.run, l.tag) + "|" + sk)) { missing.push([l.run, l.tag]); waiting += 1; }
      else if (s && s.stale) { missing.push([l.run, l.tag]); }
    });
    missing.waiting = waiting;
    return missing;
  }
  function request(items) {
    var sk = settingsKey();
    items.forEach(function (it) {
      var k = skey(it[0], it[1]);
      if (!S.pending.has(k)) { S.pending.set(k, sk); }
    });
    if (!S.flushTimer) { S.flushTimer = setTimeout(flush, 0); }
  }
  function flush() {
    S.flushTimer = null;
    var sk = settingsKey(), items = [];
    S.pending.forEach(function (v, k) { if (v === sk) { items.push(k.split("\u0000")); } });
    var inflight = S.inflight || (S.inflight = new Set());
    items = items.filter(function (it) { return !inflight.has(skey(it[0], it[1]) + "|" + sk); });
    S.pending.clear();
    for (var i = 0; i < items.length; i += 600) {
      (function (chunk) {
        chunk.forEach(function (it) { inflight.add(skey(it[0], it[1]) + "|" + sk); });
        api("/api/page/series", {items: chunk, smooth: S.smooth, w: S.w, max_points: S.maxPoints})
          .then(function (res) {
            store(res.series, sk);
            if (res.series.length) { liveRestart(); }
            var got = new Set(res.series.map(function (o) { return skey(o.run, o.tag); }));
            chunk.forEach(function (it) { var k = skey(it[0], it[1]); if (!got.has(k)) { S.absent.add(k + "|" + sk); } });
          })
          .catch(function (e) { console.warn("vizboard:", e); })
          .then(function () {
            chunk.forEach(function (it) { inflight.delete(skey(it[0], it[1]) + "|" + sk); });
            drawCards();
            noteDrawn();  /* also when nothing needed drawing (the data had come another way) */
          });
      })(items.slice(i, i + 600));
    }
  }
  var MAX_BYTES = 160 * 1024 * 1024;  /* series kept in the browser; the oldest off-screen ones go first */
  function bytesOf(s) { return s.step.byteLength + s.rel.byteLength + s.value.byteLength + (s.sm ? s.sm.byteLength : 0); }
  function store(list, sk) {
    list.forEach(function (o) {
      var s = unpack(o);
      s.settings = sk;
      var k = skey(s.run, s.tag), old = S.series.get(k);
      if (!old || old.settings !== sk || old.version <= s.version) {
        if (old) { S.bytes -= bytesOf(old); S.series.delete(k); }
        S.series.set(k, s); S.bytes = (S.bytes || 0) + bytesOf(s);
      }
    });
    if (S.bytes > MAX_BYTES) { evict(); }
  }
  function evict() {
    var keep = new Set();
    S.cards.forEach(function (c) {
      if (c.visible && !c.hidden) { cardLines(c.spec).forEach(function (l) { keep.add(skey(l.run, l.tag)); }); }
    });
    var it = S.series.keys(), k;
    while (S.bytes > MAX_BYTES * 0.6 && !(k = it.next()).done) {
      if (!keep.has(k.value)) { S.bytes -= bytesOf(S.series.get(k.value)); S.series.delete(k.value); }
    }
    S.cards.forEach(function (c) { if (!c.visible) { c.sig = null; } });  /* redrawn (refetched) when back in view */
  }

  /* ---- drawing ---- */
  function themeLayout() {
    var dark = S.theme === "dark";
    var grid = dark ? "#283442" : "#e5ecf6", fg = dark ? "#f2f5fa" : "#2a3f5f";
    return {dark: dark, grid: grid, fg: fg};
  }
  function cardSig(card, lines) {
    return [settingsKey(), S.xAxis, S.logX, S.logY, S.outliers, S.theme, card.zoom ? card.zoom.key : "",
            lines.map(function (l) {
              var s = dataOf(card, l); return l.label + "=" + (s ? s.version + ":" + s.step.length : "-") + l.color;
            }).join(",")].join("|");
  }
  function dataOf(card, l) {
    if (card.zoom) { var z = card.zoom.data.get(skey(l.run, l.tag)); if (z) { return z; } }
    return seriesFor(l.run, l.tag);
  }
  var REL_UNITS = [["s", 1], ["min", 60], ["h", 3600], ["days", 86400]];
  function relUnit(card, lines) {  /* relative time in s, min, h or days: the largest unit the span fills twice */
    var most = 0;
    lines.forEach(function (l) { var s = dataOf(card, l); if (s && s.rel.length) { most = Math.max(most, s.rel[s.rel.length - 1]); } });
    var u = REL_UNITS[0];
    REL_UNITS.forEach(function (c) { if (most >= 2 * c[1]) { u = c; } });
    return u;
  }
  function xOf(s, unit) {
    if (S.xAxis === "step") { return s.step; }
    var div = S.xAxis === "relative" ? unit[1] : 1, key = "_x_" + S.xAxis + div;
    if (!s[key]) {
      var n = s.rel.length, out = new Float64Array(n), wall = S.xAxis === "wall_time";
      for (var i = 0; i < n; i++) { out[i] = wall ? (s.rel[i] + s.t0) * 1000 : s.rel[i] / div; }
      s[key] = out;
    }
    return s[key];
  }
  function fmtRel(sec) {  /* relative time for the hover: 42.0 s, 3.5 min, 2.25 h, 1.50 days */
    if (!(sec >= 0)) { return ""; }
    if (sec < 60) { return sec.toFixed(1) + " s"; }
    if (sec < 3600) { return (sec / 60).toFixed(2) + " min"; }
    if (sec < 86400) { return (sec / 3600).toFixed(2) + " h"; }
    return (sec / 86400).toFixed(2) + " days";
  }
  function pad2(v) { return v < 10 ? "0" + v : String(v); }
  function hoverCustom(s) {  /* per point [value, step, wall time (UTC), relative time]: built once per series */
    if (!s._custom) {
      /* the date part is formatted once per day and the time of day by arithmetic: a Date and
         toISOString per point cost ~40 ms per card of 30 runs on the page's first draw */
      var n = s.step.length, c = new Array(n), dayNo = NaN, dayStr = "";
      for (var i = 0; i < n; i++) {
        var t = Math.floor(s.rel[i] + s.t0), d = Math.floor(t / 86400), sec = t - d * 86400;
        if (d !== dayNo) { dayNo = d; dayStr = isFinite(d) ? new Date(d * 86400000).toISOString().slice(0, 10) : ""; }
        var hms = pad2(Math.floor(sec / 3600)) + ":" + pad2(Math.floor(sec / 60) % 60) + ":" + pad2(sec % 60);
        c[i] = [s.value[i], s.step[i], dayStr + " " + hms, fmtRel(s.rel[i])];
      }
      s._custom = c;
    }
    return s._custom;
  }
  var HOVER_TAIL = "<br>%{customdata[2]} UTC (%{customdata[3]})<extra></extra>";
  function yRange(arrays) {
    var vals = [];
    arrays.forEach(function (a) {
      for (var i = 0; i < a.length; i++) { var v = a[i]; if (isFinite(v) && (!S.logY || v > 0)) { vals.push(v); } }
    });
    if (!vals.length) { return null; }
    var lo, hi;
    if (S.outliers) {
      vals.sort(function (a, b) { return a - b; });
      var pick = function (p) { var x = (vals.length - 1) * p, i = Math.floor(x); return vals[i] + (vals[Math.min(i + 1, vals.length - 1)] - vals[i]) * (x - i); };
      lo = pick(0.05); hi = pick(0.95); var pad0 = 0.05 * (hi - lo); lo -= pad0; hi += pad0;
    } else {
      lo = Infinity; hi = -Infinity;
      for (var j = 0; j < vals.length; j++) { if (vals[j] < lo) { lo = vals[j]; } if (vals[j] > hi) { hi = vals[j]; } }
    }
    if (hi <= lo) { var p = 0.05 * Math.abs(lo) || 1; lo -= p; hi += p; }
    if (S.logY) { lo = Math.log10(lo); hi = Math.log10(hi); }
    var pad = (hi - lo) * 0.05 || 1;
    return [lo - pad, hi + pad];
  }
  /* With smoothing on, each run's raw series is a faded line under its smoothed one; over RAW_MAX
     lines in a card those faded lines are left out (they double the traces Plotly draws, and a
     card of many runs' faded lines is a grey band; the hover still shows each point's raw value). */
  var RAW_MAX = 10;
  /* Over BULK_MIN lines (500: where TensorBoard stops ticking every run) a card draws its runs merged into a few traces, one per colour bucket (hue in
     20-degree steps x the two lightness bands of the run colours), each run a stretch of its bucket's
     line with gaps between runs: Plotly's cost is per trace (~1-2 ms each: 1,000 runs froze the page
     for seconds, 10,000 for 20 s), and over a hundred runs' exact hues cannot be told apart anyway.
     Every run is still drawn, and the hover names each point's run. */
  var BULK_MIN = 500;
  function hexHsl(hex) {
    var v = parseInt(String(hex).slice(1, 7), 16), r = (v >> 16 & 255) / 255, g = (v >> 8 & 255) / 255, b = (v & 255) / 255;
    var mx = Math.max(r, g, b), mn = Math.min(r, g, b), d = mx - mn, h = 0;
    if (d) { h = mx === r ? ((g - b) / d) % 6 : (mx === g ? (b - r) / d + 2 : (r - g) / d + 4); }
    return [(h * 60 + 360) % 360, (mx + mn) / 2];
  }
  function bulkKey(color) {
    var hl = hexHsl(color);
    return Math.round(hl[0] / 20) % 18 + (hl[1] > 0.48 ? "L" : "D");
  }
  var NONFINITE_TEXT = {nan: "NaN", posinf: "+Infinity", neginf: "-Infinity"};
  function bulkTraces(buckets, smoothing) {
    var out = [];
    buckets.forEach(function (b) {
      out.push({type: "scatter", mode: "lines", x: b.x, y: b.y, text: b.text, customdata: b.custom, showlegend: false,
        line: {color: b.color, width: smoothing ? 1.5 : 1.2}, connectgaps: false,
        hovertemplate: "<b>%{text}</b><br>step %{customdata[1]:,d}<br>value %{customdata[0]:.6g}" +
          (smoothing ? "<br>smoothed %{y:.6g}" : "") + HOVER_TAIL,
        meta: {role: "bulk", runs: b.runs}});
    });
    return out;
  }
  function mergeMarkers(markers) {  /* bulk cards: one trace per kind of non-finite value, coloured per point */
    var byKind = new Map();
    markers.forEach(function (m) {
      var k = m.meta.nonfinite, t = byKind.get(k);
      if (!t) {
        t = Object.assign({}, m, {x: [], customdata: [], text: [], name: NONFINITE_TEXT[k],
          marker: Object.assign({}, m.marker, {color: [], line: {width: 2, color: []}}), meta: {nonfinite: k, runs: 0},
          hovertemplate: "<b>%{text}</b><br>step %{customdata:,d}<br>value " + NONFINITE_TEXT[k] + "<extra></extra>"});
        delete t.legendgroup;
        byKind.set(k, t);
      }
      for (var i = 0; i < m.x.length; i++) {
        t.x.push(m.x[i]); t.customdata.push(m.customdata[i]); t.text.push(m.meta.label);
        t.marker.color.push(m.marker.color); t.marker.line.color.push(m.marker.color);
      }
      t.meta.runs += 1;
    });
    return Array.from(byKind.values());
  }
  function buildFigure(card, lines) {
    var smoothing = S.smooth !== "none", data = [], markers = [], arrays = [], nonfinite = false;
    var rawToo = !smoothing || lines.length <= RAW_MAX;
    var buckets = lines.length > BULK_MIN ? new Map() : null;
    var th = themeLayout();
    var stepHover = "%{customdata[1]:,d}";
    var unit = card.zoom && card.zoom.unit ? card.zoom.unit : relUnit(card, lines);
    card.unit = unit;
    lines.forEach(function (l) {
      var s = dataOf(card, l);
      if (!s) { return; }
      var x = xOf(s, unit), name = esc(l.label), sparse = s.n <= 30;
      var custom = hoverCustom(s);
      var valRef = "%{customdata[0]:.6g}";
      var meta = {run: l.run, tag: l.tag, label: l.label};
      if (buckets) {
        var key = bulkKey(l.color), b = buckets.get(key), y = smoothing && s.sm ? s.sm : s.value;
        if (!b) { b = {color: l.color, x: [], y: [], text: [], custom: [], runs: 0}; buckets.set(key, b); }
        if (b.runs) { b.x.push(null); b.y.push(null); b.text.push(""); b.custom.push(null); }
        for (var k = 0; k < y.length; k++) { b.x.push(x[k]); b.y.push(y[k]); b.text.push(name); b.custom.push(custom[k]); }
        b.runs += 1;
      } else if (rawToo || !s.sm) {
        data.push({type: "scatter", x: x, y: s.value, name: name, legendgroup: name,
          mode: sparse && !smoothing ? "lines+markers" : "lines", marker: {size: 5, color: l.color},
          line: {color: l.color, width: smoothing ? 1 : 1.5, dash: l.dash}, opacity: smoothing ? 0.25 : 1,
          showlegend: !smoothing, hoverinfo: smoothing ? "skip" : undefined, customdata: smoothing ? undefined : custom,
          hovertemplate: smoothing ? undefined : "<b>%{fullData.name}</b><br>step " + stepHover + "<br>value " + valRef + HOVER_TAIL,
          meta: Object.assign({role: "raw"}, meta)});
      }
      arrays.push(s.value);
      if (smoothing && s.sm) {
        if (!buckets) { data.push({type: "scatter", x: x, y: s.sm, name: name, legendgroup: name, mode: sparse ? "lines+markers" : "lines",
          marker: {size: 5, color: l.color}, line: {color: l.color, width: 1.8, dash: l.dash}, customdata: custom,
          hovertemplate: "<b>%{fullData.name}</b><br>step " + stepHover + "<br>value " + valRef + "<br>smoothed %{y:.6g}" + HOVER_TAIL,
          meta: Object.assign({role: "smoothed"}, meta)}); }
        arrays.push(s.sm);
      }
      var kinds = {nan: [], posinf: [], neginf: []};
      for (var i = 0; i < s.value.length; i++) {
        var v = s.value[i];
        if (v !== v) { kinds.nan.push(i); } else if (v === Infinity) { kinds.posinf.push(i); } else if (v === -Infinity) { kinds.neginf.push(i); }
      }
      ["nan", "posinf", "neginf"].forEach(function (k) {
        if (!kinds[k].length) { return; }
        nonfinite = true;
        var text = NONFINITE_TEXT[k];
        markers.push({type: "scatter", mode: "markers", _edge: k === "neginf" ? "bottom" : "top",
          x: kinds[k].map(function (j) { return x[j]; }), customdata: kinds[k].map(function (j) { return s.step[j]; }),
          marker: {symbol: {nan: "x-thin-open", posinf: "triangle-up", neginf: "triangle-down"}[k], size: 9, color: l.color,
                   line: {width: 2, color: l.color}},
          name: name + " (" + text + ")", legendgroup: name, showlegend: false,
          hovertemplate: "<b>%{fullData.name}</b><br>step %{customdata:,d}<br>value " + text + "<extra></extra>",
          meta: {nonfinite: k, run: l.run, label: name}});
      });
    });
    if (buckets) {
      data = bulkTraces(buckets, smoothing);
      markers = mergeMarkers(markers);
    }
    var yr = (nonfinite || S.outliers) ? (yRange(arrays) || [-1, 1]) : null;
    markers.forEach(function (m) {
      var e = m._edge === "top" ? yr[1] : yr[0]; delete m._edge;
      var yv = S.logY ? Math.pow(10, e) : e;
      m.y = m.x.map(function () { return yv; });
    });
    var xTitle = {step: "step", relative: "relative time (" + unit[0] + ")", wall_time: "wall time (UTC)"}[S.xAxis];
    var xaxis = {title: {text: xTitle}, gridcolor: th.grid, zerolinecolor: th.grid, automargin: true,
                 type: S.xAxis === "wall_time" ? "date" : (S.logX ? "log" : "linear"), hoverformat: S.xAxis === "step" ? ",d" : undefined,
                 ticklabeloverflow: "allow"};
    /* ticklabeloverflow "allow": Plotly's default measures every tick label (a forced layout per
       label, per draw) to hide labels past the card's edge; the SVG clips them anyway. */
    var yaxis = {type: S.logY ? "log" : "linear", gridcolor: th.grid, zerolinecolor: th.grid, automargin: true,
                 ticklabeloverflow: "allow"};
    if (yr) { yaxis.range = yr; yaxis.autorange = false; }
    if (card.zoom && !card.zoom.plotRange) {  /* a zoom from the URL: data units -> this axis' units */
      card.zoom.unit = unit;
      card.zoom.plotRange = card.zoom.range.map(function (v) {
        if (S.xAxis === "wall_time") { return v * 1000; }
        var x = S.xAxis === "relative" ? v / unit[1] : v;
        return S.logX ? Math.log10(x) : x;
      });
    }
    if (card.zoom) { xaxis.range = card.zoom.plotRange; xaxis.autorange = false; }
    if (card.yzoom) { yaxis.range = card.yzoom; yaxis.autorange = false; }
    /* Legend only where the run list's colours do not say it all: cards with several lines per run
       (custom layouts: dashes tell their tags apart), up to 12 lines. A one-tag card's line colours
       are the run list's, and its hover names the run; a legend would double a card's draw time. */
    var nLegend = card.spec.kind === "tag" ? 0 : lines.length;
    var layout = {
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: th.dark ? "#1e1e1e" : "#ffffff",
      font: {family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: th.fg},
      margin: {l: 50, r: 10, t: 10, b: 40 + (nLegend > 1 && nLegend <= 12 ? 18 * Math.ceil(nLegend / 3) : 0)}, xaxis: xaxis, yaxis: yaxis, hovermode: "closest",
      hoverlabel: {namelength: -1}, uirevision: card.spec.key + "|" + S.xAxis + "|" + S.logX + "|" + S.logY,
      showlegend: nLegend > 1 && nLegend <= 12,
      legend: {orientation: "h", yref: "container", y: 0, yanchor: "bottom", x: 0, font: {size: 10}},
      autosize: true
    };
    return {data: data.concat(markers), layout: layout};
  }
  var CONFIG = {displaylogo: false, responsive: true, scrollZoom: false,
                modeBarButtonsToRemove: ["lasso2d", "select2d"], toImageButtonOptions: {format: "png", scale: 2}};
  function ensureDrawn(card) {
    if (card.hidden || !card.visible || !window.vbPlotly) { return; }
    if (!card.onScreen) {  /* in the margin: its series are fetched ahead; drawn once on screen */
      if (!(X.owns && X.owns())) { var ahead = need(card); if (ahead.length) { request(ahead); } }
      return;
    }
    var lines = cardLines(card.spec);
    var ext = X.draw ? X.draw(card, lines) : null;
    if (ext) { if (!ext.wait) { drawWith(card, lines, ext); } return; }
    var missing = need(card);
    if (card.zoom && card.zoom.fetch) { card.zoom.fetch = false; zoomFetch(card); }
    if (card.zoom && card.zoom.pending) { return; }
    if (missing.length) { request(missing); }
    if (missing.waiting && !card.zoom) { return; }  // wait until every line can be drawn
    if (missing.length && card.zoom) {
      var have = lines.filter(function (l) { return dataOf(card, l) || S.absent.has(skey(l.run, l.tag) + "|" + settingsKey()); });
      if (have.length < lines.length) { return; }
    }
    var sig = cardSig(card, lines);
    if (sig === card.sig) { return; }
    if (card.drawing) { card.again = true; return; }
    var fig = buildFigure(card, lines);
    drawWith(card, lines, {sig: sig, data: fig.data, layout: fig.layout});
  }
  function drawWith(card, lines, fig) {
    var sig = fig.sig;
    if (sig === card.sig) { return; }
    if (card.drawing) { card.again = true; return; }
    mark("vb:react:" + card.spec.title);
    if (early) { S.earlyDrawn = (S.earlyDrawn || 0) + 1; }
    var drawnRuns = Array.from(new Set(lines.map(function (l) { return l.run; }))).sort();
    var cfg = Object.assign({}, CONFIG, {toImageButtonOptions: {format: "png", scale: 2, filename: fileName(card.spec.title)}});
    card.sig = sig;
    var first = !card.gd;
    card.gd = card.graphEl;
    card.drawing = window.vbPlotly.react(card.gd, fig.data, fig.layout, cfg).then(function () {
      card.el.setAttribute("data-vb-drawn", JSON.stringify(drawnRuns));
      mark("vb:drawn:" + card.spec.title);
      if (first) {
        card.gd.on("plotly_relayout", function (ev) { onRelayout(card, ev); });
        card.gd.on("plotly_hover", function (ev) { if (X.hover) { X.hover(card, ev); } });
        card.gd.on("plotly_unhover", function (ev) { if (X.unhover) { X.unhover(card, ev); } });
        card.gd.on("plotly_legendclick", function (ev) { return X.legendclick ? X.legendclick(card, ev) : true; });
      }
      if (X.drawn) { X.drawn(card); }
    }).catch(function (e) { console.warn("vizboard draw:", e); }).then(function () {
      card.drawing = null;
      if (card.again) { card.again = false; ensureDrawn(card); }
      noteDrawn();
    });
  }
  function noteDrawn() {
    if (S.drawnVersion < 0 || S.pending.size || (S.inflight && S.inflight.size)) { return; }  /* cheap checks first */
    var busy = false;
    S.cards.forEach(function (c) {
      if (!c.onScreen || c.hidden) { return; }
      var xs = X.sig ? X.sig(c) : null;
      if (c.drawing || c.sig !== (xs === null || xs === undefined ? cardSig(c, cardLines(c.spec)) : xs)) { busy = true; }
    });
    if (!busy) {
      document.body.dataset.vbVersion = String(S.drawnVersion);
    }
  }

  /* ---- zoom: re-query the window at full resolution ---- */
  function toData(v, unit) {
    if (S.xAxis === "wall_time") {
      if (typeof v === "string") { return Date.parse(v.replace(" ", "T") + (v.length > 10 ? "Z" : "")) / 1000; }
      return v / 1000;
    }
    var x = S.logX ? Math.pow(10, v) : Number(v);
    return S.xAxis === "relative" ? x * unit[1] : x;
  }
  function onRelayout(card, ev) {
    if (!ev || (X.relayout && X.relayout(card, ev))) { return; }
    if (ev["yaxis.autorange"]) { card.yzoom = null; }
    else if ("yaxis.range[0]" in ev) { card.yzoom = [ev["yaxis.range[0]"], ev["yaxis.range[1]"]]; }
    else if (Array.isArray(ev["yaxis.range"])) { card.yzoom = ev["yaxis.range"].slice(0, 2); }
    if (ev["xaxis.autorange"]) { card.zoom = null; card.sig = null; writeUrl(); ensureDrawn(card); return; }
    var raw = null;
    if ("xaxis.range[0]" in ev) { raw = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]]; }
    else if (Array.isArray(ev["xaxis.range"])) { raw = ev["xaxis.range"].slice(0, 2); }
    if (!raw) { return; }
    var unit = card.unit || REL_UNITS[0];
    var rng = raw.map(function (v) { return toData(v, unit); }).sort(function (a, b) { return a - b; });
    card.zoom = {range: rng, plotRange: raw, key: rng.join(":"), data: new Map(), pending: true, unit: unit};
    writeUrl();
    zoomFetch(card);
  }
  function zoomFetch(card) {
    var z = card.zoom, items = cardLines(card.spec).map(function (l) { return [l.run, l.tag]; });
    var x = S.xAxis === "wall_time" ? "wall_time" : S.xAxis;
    z.pending = true;
    var mp = Math.max(S.maxPoints, Math.min(2000, Math.floor(60000 / Math.max(1, items.length))));  /* one card: finer */
    api("/api/page/series", {items: items, smooth: S.smooth, w: S.w, max_points: mp, x: x, x_range: z.range})
      .then(function (res) {
        if (card.zoom !== z) { return; }
        var sk = settingsKey();
        res.series.forEach(function (o) { var s = unpack(o); s.settings = sk; z.data.set(skey(s.run, s.tag), s); });
        z.pending = false; card.sig = null; ensureDrawn(card);
      }).catch(function (e) { z.pending = false; console.warn("vizboard zoom:", e); });
  }

  /* ---- live updates ---- */
  /* The page's own long poll (/api/page/live): the server answers as soon as the data version
     moves, with the new packed series of the lines on screen, so a new point is drawn one
     round trip after the server has it (no poll period, no Dash callback in the way). The
     Dash data-version store (onVersion) is only the fallback while that loop is failing. */
  function liveItems() {  /* the series the browser holds for ticked runs, at the current settings */
    var sk = settingsKey(), out = [];
    S.series.forEach(function (s) {
      if (s.settings === sk && S.selectedSet.has(s.run) && out.length < 20000) { out.push([s.run, s.tag]); }
    });
    return out;
  }
  function liveLoop() {
    var sk = settingsKey(), ctl = window.AbortController ? new AbortController() : null;
    S.liveCtl = ctl;
    api("/api/page/live", {since: S.version, h: S.hash, wait: 20, items: liveItems(), smooth: S.smooth, w: S.w,
                           max_points: S.maxPoints}, ctl && ctl.signal)
      .then(function (res) {
        S.liveOk = true; S.liveFails = 0;
        if (res.version !== S.version || res.sections) { applyChanges(res, sk); }
        setTimeout(liveLoop, 0);
      })
      .catch(function (e) {
        if (ctl && ctl.signal.aborted) { setTimeout(liveLoop, 0); return; }  /* restarted with new items */
        S.liveOk = false; S.liveFails = (S.liveFails || 0) + 1;
        console.warn("vizboard live:", e);
        setTimeout(liveLoop, Math.min(10000, 500 * S.liveFails));
      });
  }
  /* New series arrived (scrolled into view, ticked, new settings): the waiting poll is asked
     again with them, so their next point comes with the poll's answer too. */
  function liveRestart() {
    if (S.liveTimer || !S.liveCtl) { return; }
    S.liveTimer = setTimeout(function () {
      S.liveTimer = null;
      var ctl = S.liveCtl; S.liveCtl = null;
      if (ctl) { ctl.abort(); }
    }, 100);
  }
  function applyChanges(res, sk) {
    if (res.sections) { applyStructure(res); }
    if (res.series && res.series.length && sk === settingsKey()) { store(res.series, sk); }
    res.changed.forEach(function (c) {
      var s = S.series.get(skey(c[0], c[1]));
      if (s && s.version < c[2]) { s.stale = true; }
    });
    var zoomed = new Set(res.changed.map(function (c) { return skey(c[0], c[1]); }));
    S.version = Math.max(S.version, res.version);
    S.drawnVersion = S.version;
    S.cards.forEach(function (card) {
      if (card.zoom && !card.zoom.pending && cardLines(card.spec).some(function (l) { return zoomed.has(skey(l.run, l.tag)); })) {
        zoomFetch(card);
      }
    });
    computeSelection(); renderRunList(); pushSelectionToDash(false); if (res.sections) { pushColors(); } buildSections();
    noteDrawn();
  }
  function onVersion(v) {
    if (S.liveOk) { return; }  /* the long poll has it (or will, sooner) */
    if (!S.ready || v === null || v === undefined || v <= S.version) { return; }
    if (S.liveBusy) { S.nextVersion = v; return; }
    S.liveBusy = true;
    api("/api/page/changes?since=" + S.version + "&h=" + encodeURIComponent(S.hash)).then(function (res) {
      applyChanges(res, null);
    }).catch(function (e) { console.warn("vizboard live:", e); }).then(function () {
      S.liveBusy = false;
      if (S.nextVersion !== null) { var n = S.nextVersion; S.nextVersion = null; onVersion(n); }
    });
  }
  function applyStructure(st) {
    S.absent = new Set();  /* series the server did not know may exist now */
    S.runs = st.runs; S.colors = st.colors; S.hash = st.hash;
    S.runIdx = new Map(); S.runs.forEach(function (r, i) { S.runIdx.set(r, i); });
    var oldEls = new Map(); S.sections.forEach(function (s) { if (s._el) { oldEls.set(s.key, s._el); } });
    S.sections = st.sections;
    S.sections.forEach(function (sec) {  /* plain-tag cards come as run indices: expand to lines */
      sec.cards.forEach(function (c) {
        if (c.kind === "tag" && !c.lines) { c.lines = c.runs.map(function (i) { return [i, c.tag, S.runs[i]]; }); }
      });
    });
    S.sections.forEach(function (s) { if (oldEls.has(s.key)) { s._el = oldEls.get(s.key); } });
    S.maxPoints = st.max_points;
    if (listEl) { Array.from(listEl.querySelectorAll("label.vb-run-row")).forEach(function (el) { el.remove(); }); }
  }

  /* ---- mount ---- */
  /* Before Dash has rendered its layout, the first cards are drawn in a stand-in box where the
     Scalars sections will be, and the run list (filter, All / None, rows) in one where the
     sidebar will be; when #vb-scalars-root and #vb-runs-root appear, the sections (and their
     drawn Plotly charts) and the run list move into them. The first curve then waits for no
     layout round trip, and the run filter works from the first curve on: a regex typed while
     Dash is still booting is not held up until its layout is mounted. */
  var early = null, earlyRuns = null;
  /* The early run list's elements move into Dash's sidebar as they are: a filter being typed
     into keeps its value, focus and caret; the list keeps its scroll position. */
  function adoptRunList(r) {
    var focused = document.activeElement === filterEl;
    var caret = focused ? [filterEl.selectionStart, filterEl.selectionEnd, filterEl.selectionDirection] : null;
    var top = listEl.scrollTop;
    r.textContent = "";
    while (earlyRuns.firstChild) { r.appendChild(earlyRuns.firstChild); }
    earlyRuns.remove(); earlyRuns = null;
    runsEl = r;
    listEl.scrollTop = top;
    if (caret) {
      filterEl.focus({preventScroll: true});
      try { filterEl.setSelectionRange(caret[0], caret[1], caret[2] || "none"); } catch (e) { /* not a text state */ }
    }
  }
  function pushColors() {  /* to Dash's store, once its renderer (set_props) has loaded: mount() runs after it */
    if (S.colorsPushed === S.hash || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    S.colorsPushed = S.hash;
    var colors = {}; S.runs.forEach(function (r, i) { colors[r] = S.colors[i]; });
    window.dash_clientside.set_props("shell-run-colors", {data: colors});
  }
  function mount() {
    var r = document.getElementById("vb-runs-root"), s = document.getElementById("vb-scalars-root");
    if (!window.vbPlotly) { return false; }
    /* at once: the index runs this script right after plotly.js and before Dash's bundles
       (app.py, _PageFirstDash), so the first curve does not wait for React, Dash's renderer and
       the component suites to be parsed and run; they run after it. */
    if (!r && !runsEl && document.body) {  /* the run list is the shell's: on every tab */
      earlyRuns = document.createElement("div");
      earlyRuns.className = "vb-runs-root vb-early-runs";
      document.body.appendChild(earlyRuns);
      buildRunList(earlyRuns); renderRunList();
    }
    if (!s && !early && S.activeTab === "scalars" && document.body) {
      early = document.createElement("div");
      early.className = "vb-sections vb-early";
      document.body.appendChild(early);
      scalarsEl = early;
      mark("vb:early");
      buildSections();
    }
    if (!r || !s) { return false; }
    mark("vb:mount");
    pushColors();
    if (runsEl !== r) {
      if (earlyRuns && runsEl === earlyRuns) { adoptRunList(r); } else { buildRunList(r); }
      renderRunList();
    }
    if (scalarsEl !== s) {
      var widthBefore = scalarsEl ? scalarsEl.clientWidth : 0;
      scalarsEl = s; if (X.mount) { X.mount(s); } buildSections();
      if (early) {
        early.remove(); early = null;
        if (s.clientWidth !== widthBefore) {
          S.cards.forEach(function (c) { if (c.gd && c.gd._fullLayout) { window.vbPlotly.Plots.resize(c.gd); } });
        }
        drawSoon([], true);  /* the cards held for the shell (holdForShell) */
      }
    }
    return true;
  }
  /* A card observer sets card[flag] as cards come and go, and queues the ones that came: ensureDrawn
     draws those on screen and only fetches the series of the others. */
  function cardObserver(flag, rootMargin) {
    return new IntersectionObserver(function (entries) {
      var shown = [];
      entries.forEach(function (e) {
        var card = S.cards.get(e.target.dataset.vbCard);
        if (!card) { return; }
        card[flag] = e.isIntersecting;
        if (e.isIntersecting) { shown.push(card); }
      });
      drawSoon(shown, true);
    }, {rootMargin: rootMargin});
  }
  observer = cardObserver("visible", "150px 0px");  /* near the screen (150 px margin): fetch ahead */
  screenObserver = cardObserver("onScreen", "0px");  /* on screen: draw */
  mark("vb:script");
  initPromise.then(function (res) {
    mark("vb:init");
    applyStructure(res);
    S.version = S.drawnVersion = res.version;
    var sk = res.settings.smooth + "|" + Number(res.settings.w).toFixed(6) + "|" + res.settings.max_points;
    if (res.settings.max_points === S.maxPoints) { store(res.series, sk); }
    S.ready = true;
    setTimeout(liveLoop, 0);
    computeSelection();
    pushSelectionToDash(false);
    if (!mount()) {
      window.addEventListener("load", function () { setTimeout(mount, 0); });
      var mo = new MutationObserver(function () { if (mount()) { mo.disconnect(); } });
      mo.observe(document.documentElement, {childList: true, subtree: true});
      var poll = setInterval(function () { if (mount()) { clearInterval(poll); mo.disconnect(); } }, 50);
    }
  }).catch(function (e) { console.warn("vizboard init:", e); });

  /* ---- the bridge to Dash (clientside callbacks) ---- */
  var nu = function () { return window.dash_clientside.no_update; };
  window.vbScalars = {state: S, hooks: X, api: api, unpack: unpack, b64: b64, esc: esc, cardLines: cardLines,
    dataOf: dataOf, need: need, request: request, xOf: xOf, relUnit: relUnit, themeLayout: themeLayout,
    settingsKey: settingsKey, config: CONFIG, fileName: fileName, ensureDrawn: ensureDrawn,
    redraw: function () { S.cards.forEach(function (c) { c.sig = null; }); if (S.ready) { buildSections(); } }};
  if (X.init) { X.init(window.vbScalars); }
  window.dash_clientside = Object.assign({}, window.dash_clientside, {vbpage: {
    /* Scalars settings from the Dash controls: applied here, server asked only for new data. */
    settings: function (tagRe, smooth, w, xAxis, opts, theme, active, version) {
      var cc = window.dash_clientside.callback_context, trig = (cc && cc.triggered) || [];
      if (!trig.length || trig[0].prop_id === ".") {  /* initial call: controls still at defaults; the URL was read */
        if (active) { S.activeTab = active; }
        onVersion(version);
        return nu();
      }
      opts = opts || [];
      var wNum = parseFloat(w);
      if (isNaN(wNum)) { wNum = S.w; }
      wNum = Math.min(Math.max(wNum, 0), 0.999);
      var changed = false;
      function set(k, v) { if (S[k] !== v) { S[k] = v; changed = true; } }
      set("tagRe", tagRe || ""); set("smooth", smooth || "ema"); set("w", wNum); set("xAxis", xAxis || "step");
      set("logX", flag(opts, "log_x")); set("logY", flag(opts, "log_y")); set("outliers", flag(opts, "outliers"));
      set("theme", theme || "light");
      if (active && S.activeTab !== active) { S.activeTab = active; changed = true; }
      var axes = S.xAxis + "|" + S.logX + "|" + S.logY;
      if (S.axes !== undefined && S.axes !== axes) {  // a zoom is in the old axis' units
        S.cards.forEach(function (c) { c.zoom = null; c.yzoom = null; });
        S.zoomUrl.clear(); writeUrl();
      }
      S.axes = axes;
      if (changed && S.ready) { buildSections(); }
      onVersion(version);
      return nu();
    },
    /* Tab switch in the browser: page visibility, and the selection for the server tabs. */
    active: function (value, ids) {
      if (!ids || ids.indexOf(value) < 0) { return [nu()].concat((ids || []).map(nu), [nu()]); }
      var out = [value];
      (ids || []).forEach(function (id) { out.push({display: id === value ? "block" : "none"}); });
      S.activeTab = value;
      var key = JSON.stringify(S.selected), cc = window.dash_clientside.callback_context;
      /* initial call: a push made before the Dash renderer was up (a fast reload) was lost: push again */
      var first = !cc || !cc.triggered || !cc.triggered.length || cc.triggered[0].prop_id === ".";
      if (S.ready && (first || key !== S.lastPushed)) { S.lastPushed = key; out.push(S.selected.slice()); } else { out.push(nu()); }
      if (value === "scalars") { setTimeout(function () { S.cards.forEach(function (c) { if (c.visible) { ensureDrawn(c); } }); }, 0); }
      return out;
    },
    /* HParams asks for exactly these runs. */
    request: function (runs) {
      if (runs && runs.length) {
        S.mode = "list"; S.on = new Set(runs.filter(function (r) { return S.runIdx.has(r); }));
        if (S.ready) { selectionChanged(); pushSelectionToDash(true); }
      }
      return nu();
    }
  }});
})();
