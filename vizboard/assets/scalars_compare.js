/* vizboard's Scalars comparison tools: run groups (line + band), any scalar as x, pinned cards, step cursor + readout.
 *
 * Hooks into assets/scalars_page.js through window.vbScalarsHooks (see the comment there); the
 * page core stays the owner of selection, data and drawing. State lives in the URL:
 *   g_by=regex|hparam|text, g_key=<pattern|hparam|TAG[:FIELD]>, g_stat=mean|median|min|max,
 *   g_band=minmax|std|stderr|none, g_open=<group> (repeated: expanded groups), xtag=<scalar tag>,
 *   pin=<card key> (repeated).
 * Groups come from /api/page/groups (all runs; the selected ones are kept here), aggregates from
 * /api/page/groups/series, metric-as-x series from /api/page/xseries (vizboard/page_groups_api.py).
 * DOM hooks for tests: #vb-compare (toolbar), #vb-group-by, #vb-group-key, #vb-group-stat,
 * #vb-group-band, #vb-xtag, data-vb-title on every card, .vb-group-chip[data-vb-group], .vb-pin (card button),
 * section "Pinned" (data-vb-section), .vb-readout (table under the hovered chart), data-vb-cursor on
 * every card showing the cursor.
 */
(function () {
  "use strict";
  var X = window.vbScalarsHooks = window.vbScalarsHooks || {};
  var V = null, S = null;
  var q0 = new URLSearchParams(window.location.search);
  var STATS = ["mean", "median", "min", "max"], BANDS = ["minmax", "std", "stderr", "none"];
  var BAND_LABEL = {minmax: "min\u2013max", std: "\u00b1std", stderr: "\u00b1stderr", none: "no band"};
  var C = {
    by: ["regex", "hparam", "text"].indexOf(q0.get("g_by")) >= 0 ? q0.get("g_by") : "",
    key: q0.get("g_key") || "",
    stat: STATS.indexOf(q0.get("g_stat")) >= 0 ? q0.get("g_stat") : "mean",
    band: BANDS.indexOf(q0.get("g_band")) >= 0 ? q0.get("g_band") : "minmax",
    open: new Set(q0.getAll("g_open")), xtag: q0.get("xtag") || "", pins: q0.getAll("pin"),
    groups: null, groupOf: new Map(), groupIdx: new Map(), groupsKey: "", groupsErr: "",
    gdata: new Map(), xdata: new Map(), pending: new Set(), pinSec: null, cursor: null
  };
  var bar = null;

  function writeUrl() {
    var q = new URLSearchParams(window.location.search);
    ["g_by", "g_key", "g_stat", "g_band", "g_open", "xtag", "pin"].forEach(function (k) { q.delete(k); });
    if (C.by && C.key) {
      q.set("g_by", C.by); q.set("g_key", C.key);
      if (C.stat !== "mean") { q.set("g_stat", C.stat); }
      if (C.band !== "minmax") { q.set("g_band", C.band); }
      Array.from(C.open).sort().forEach(function (g) { q.append("g_open", g); });
    }
    if (C.xtag) { q.set("xtag", C.xtag); }
    C.pins.forEach(function (k) { q.append("pin", k); });
    var s = q.toString();
    window.history.replaceState(window.history.state, "", window.location.pathname + (s ? "?" + s : "") + window.location.hash);
  }
  function grouping() { return !!(C.by && C.key && C.groups); }
  /* The time axis groups are drawn on ("relative" | "wall_time"), or "" (step, or a scalar tag as x). */
  function timeAxis() { return !C.xtag && (S.xAxis === "relative" || S.xAxis === "wall_time") ? S.xAxis : ""; }
  var REL_UNITS = [["s", 1], ["min", 60], ["h", 3600], ["days", 86400]];
  function changed() { writeUrl(); if (V) { V.redraw(); } }

  /* ---- groups ---- */
  function loadGroups() {
    var want = C.by && C.key ? C.by + "\u0000" + C.key + "\u0000" + S.version : "";
    if (want === C.groupsKey) { return; }
    C.groupsKey = want;
    if (C.groupsFor !== C.by + "\u0000" + C.key) { C.groups = null; C.groupsErr = ""; C.groupsFor = C.by + "\u0000" + C.key; }
    if (!want) { C.groups = null; C.groupOf = new Map(); renderChips(); changed(); return; }
    V.api("/api/page/groups?by=" + encodeURIComponent(C.by) + "&key=" + encodeURIComponent(C.key)).then(function (res) {
      if (C.groupsKey !== want) { return; }
      C.groups = res.groups; C.groupsErr = ""; C.groupOf = new Map(); C.groupIdx = new Map();
      res.groups.forEach(function (g, i) { C.groupIdx.set(g[0], i); g[1].forEach(function (r) { C.groupOf.set(r, g[0]); }); });
      renderChips(); V.redraw();
    }).catch(function (e) {
      if (C.groupsKey !== want) { return; }
      C.groups = null; C.groupsErr = String(e.message || e).indexOf("400") >= 0 ? "invalid grouping key" : String(e);
      renderChips(); V.redraw();
    });
  }
  function groupColor(g) { var i = C.groupIdx.get(g) || 0; return S.colors[i % Math.max(1, S.colors.length)] || "#1f77b4"; }
  function hexA(c, a) {
    var m = /^#([0-9a-f]{6})$/i.exec(c || "");
    if (!m) { return "rgba(120,120,120," + a + ")"; }
    var n = parseInt(m[1], 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }
  function toggleGroup(g) {
    if (C.open.has(g)) { C.open.delete(g); } else { C.open.add(g); }
    renderChips(); changed();
  }

  /* ---- toolbar ---- */
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === "className") { e.className = attrs[k]; } else { e.setAttribute(k, attrs[k]); } });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function select(id, options, value, title, fn) {
    var s = el("select", {id: id, className: "vb-input vb-select", title: title});
    options.forEach(function (o) { var op = el("option", {value: o[0]}, o[1]); if (o[0] === value) { op.selected = true; } s.appendChild(op); });
    s.addEventListener("change", function () { fn(s.value); });
    return s;
  }
  function scalarTags() {
    var tags = new Set();
    (S.sections || []).forEach(function (sec) { sec.cards.forEach(function (c) { c.lines.forEach(function (l) { tags.add(l[1]); }); }); });
    return Array.from(tags).sort();
  }
  function renderXtags() {
    var s = document.getElementById("vb-xtag");
    if (!s) { return; }
    var tags = scalarTags(), cur = Array.from(s.options).map(function (o) { return o.value; }).join("\u0000");
    var want = [""].concat(tags);
    if (C.xtag && want.indexOf(C.xtag) < 0) { want.push(C.xtag); }
    if (cur === want.join("\u0000")) { return; }
    s.textContent = "";
    want.forEach(function (t) { var op = el("option", {value: t}, t || "(x axis control)"); if (t === C.xtag) { op.selected = true; } s.appendChild(op); });
  }
  function buildBar(root) {
    if (bar && bar.parentNode) { bar.remove(); }
    bar = el("div", {id: "vb-compare", className: "vb-controls vb-compare"});
    var keyIn = el("input", {id: "vb-group-key", className: "vb-input", type: "text", autocomplete: "off",
                             placeholder: "(.*)_seed\\d+", title: "Regex capture of run names, hparam name, or text TAG[:FIELD]"});
    keyIn.value = C.key;
    var by = select("vb-group-by", [["", "no groups"], ["regex", "name regex"], ["hparam", "hparam"], ["text", "text field"]],
      C.by, "Group runs by", function (v) {
        if (v !== C.by) { keyIn.value = v === "regex" ? "(.*)_seed\\d+" : ""; }
        C.by = v;
        keyIn.placeholder = {regex: "(.*)_seed\\d+", hparam: "hparam name, e.g. lr", text: "text TAG or TAG:FIELD"}[v] || "";
        C.key = keyIn.value; C.open = new Set(); loadGroups(); writeUrl();
      });
    var t = 0;
    keyIn.addEventListener("input", function () {
      clearTimeout(t);
      t = setTimeout(function () { C.key = keyIn.value; C.open = new Set(); loadGroups(); writeUrl(); }, 350);
    });
    var stat = select("vb-group-stat", STATS.map(function (s) { return [s, s]; }), C.stat, "Group line", function (v) { C.stat = v; changed(); });
    var band = select("vb-group-band", BANDS.map(function (b) { return [b, BAND_LABEL[b]]; }), C.band, "Group band", function (v) { C.band = v; changed(); });
    var xt = select("vb-xtag", [["", "(x axis control)"]], C.xtag, "A scalar tag as the x-axis (joined by step)", function (v) {
      C.xtag = v; S.cards.forEach(function (c) { c.vbZoom = null; }); changed();
    });
    [["Group", by], ["", keyIn], ["line", stat], ["band", band], ["x = tag", xt]].forEach(function (p) {
      var lab = el("label", {className: "vb-control"}, p[0]); lab.appendChild(p[1]); bar.appendChild(lab);
    });
    var chips = el("div", {id: "vb-group-chips", className: "vb-group-chips"});
    bar.appendChild(chips);
    root.parentNode.insertBefore(bar, root);
    renderXtags(); renderChips();
  }
  function renderChips() {
    var box = document.getElementById("vb-group-chips");
    if (!box) { return; }
    box.textContent = "";
    if (C.groupsErr && C.by) { box.appendChild(el("span", {className: "vb-error"}, C.groupsErr)); return; }
    if (!grouping()) { return; }
    var sel = S.selectedSet, shown = 0;
    C.groups.forEach(function (g) {
      var n = g[1].filter(function (r) { return sel.has(r); }).length;
      if (!n || shown >= 40) { return; }
      shown++;
      var b = el("button", {className: "vb-tool vb-group-chip", title: "Expand / collapse this group's runs", "data-vb-group": g[0]},
                 (C.open.has(g[0]) ? "\u25be " : "\u25b8 ") + g[0] + " (" + n + ")");
      b.style.borderColor = groupColor(g[0]);
      b.addEventListener("click", function () { toggleGroup(g[0]); });
      box.appendChild(b);
    });
  }

  /* ---- pins ---- */
  X.sections = function (secs) {
    if (!C.pins.length) { return secs; }
    var byKey = new Map();
    secs.forEach(function (sec) { sec.cards.forEach(function (c) { byKey.set(c.key, c); }); });
    if (!C.pinSec) { C.pinSec = {name: "Pinned", key: "\u0000pinned", open: true, keepAll: true, cards: []}; }
    C.pinSec.cards = C.pins.filter(function (k) { return byKey.has(k); }).map(function (k) {
      return Object.assign({}, byKey.get(k), {key: "pin:" + k, pinOf: k});
    });
    return [C.pinSec].concat(secs);
  };
  function togglePin(key) {
    var i = C.pins.indexOf(key);
    if (i >= 0) { C.pins.splice(i, 1); } else { C.pins.push(key); }
    writeUrl();
    document.querySelectorAll(".vb-pin").forEach(function (b) { paintPin(b); });
    V.redraw();
  }
  function paintPin(b) {
    var on = C.pins.indexOf(b.dataset.vbPinKey) >= 0;
    b.textContent = on ? "Unpin" : "Pin"; b.classList.toggle("vb-pinned", on);
  }
  X.cardTools = function (card, tools) {
    var key = card.spec.pinOf || card.spec.key;
    card.el.dataset.vbTitle = card.spec.title;
    var b = el("button", {className: "vb-tool vb-pin", title: "Pin this chart to the row at the top (kept through tag filters)"});
    b.dataset.vbPinKey = key; paintPin(b);
    b.addEventListener("click", function () { togglePin(key); });
    tools.insertBefore(b, tools.firstChild);
  };

  /* ---- data for extension-drawn cards ---- */
  function zkey(card) { return card.vbZoom ? card.vbZoom.join(":") : ""; }
  function gkey(name, members, tag, card) {
    return [name, tag, members.join("\u0001"), C.stat, C.band, C.xtag, timeAxis(), zkey(card), V.settingsKey(), S.version].join("\u0000");
  }
  function xkey(run, tag, card) { return [run, tag, C.xtag, zkey(card), V.settingsKey(), S.version].join("\u0000"); }
  function fetchMissing(gItems, xItems, card) {
    var body = {smooth: S.smooth, w: S.w, max_points: S.maxPoints, x_range: card.vbZoom || null};
    if (gItems.length) {
      var keys = gItems.map(function (g) { return g.k; });
      keys.forEach(function (k) { C.pending.add(k); });
      V.api("/api/page/groups/series", Object.assign({items: gItems.map(function (g) { return [g.name, g.members, g.tag]; }),
        line: C.stat, band: C.band, xtag: C.xtag || null, xaxis: timeAxis() || "step"}, body)).then(function (res) {
        var got = new Map(res.series.map(function (o) { return [o.name + "\u0000" + o.tag, o]; }));
        gItems.forEach(function (g) { C.gdata.set(g.k, unpackGroup(got.get(g.name + "\u0000" + g.tag))); });
      }).catch(function (e) { console.warn("vizboard groups:", e); gItems.forEach(function (g) { C.gdata.set(g.k, null); });
      }).then(function () { keys.forEach(function (k) { C.pending.delete(k); }); redrawVisible(); });
    }
    if (xItems.length) {
      var xk = xItems.map(function (x) { return x.k; });
      xk.forEach(function (k) { C.pending.add(k); });
      V.api("/api/page/xseries", Object.assign({items: xItems.map(function (x) { return [x.run, x.tag]; }), xtag: C.xtag}, body))
        .then(function (res) {
          var got = new Map(res.series.map(function (o) { return [o.run + "\u0000" + o.tag, o]; }));
          xItems.forEach(function (x) {
            var o = got.get(x.run + "\u0000" + x.tag), s = o ? V.unpack(o) : null;
            if (s) { s.x = V.b64(o.x, Float64Array); }
            C.xdata.set(x.k, s);
          });
        }).catch(function (e) { console.warn("vizboard xseries:", e); xItems.forEach(function (x) { C.xdata.set(x.k, null); });
        }).then(function () { xk.forEach(function (k) { C.pending.delete(k); }); redrawVisible(); });
    }
  }
  function unpackGroup(o) {
    if (!o) { return null; }
    return {name: o.name, tag: o.tag, members: o.members, n: o.n,
            step: o.si !== undefined ? V.b64(o.si, Int32Array) : V.b64(o.s, Float64Array),
            line: V.b64(o.l, Float32Array), lo: V.b64(o.lo, Float32Array), hi: V.b64(o.hi, Float32Array),
            count: V.b64(o.c, Uint16Array), interp: V.b64(o.f, Uint8Array), x: o.x ? V.b64(o.x, Float64Array) : null};
  }
  function redrawVisible() {
    S.cards.forEach(function (c) { if (c.visible && !c.hidden) { V.ensureDrawn(c); } });
  }
  /* Split a card's lines into groups (collapsed) and single lines (ungrouped or expanded). */
  function plan(card, lines) {
    var groups = new Map(), singles = [], memberNo = new Map();
    lines.forEach(function (l) {
      var g = grouping() ? C.groupOf.get(l.run) : undefined;
      if (g === undefined || C.open.has(g)) {  /* an expanded group's runs: its colour, one dash per member */
        var one = Object.assign({group: g}, l);
        if (g !== undefined) {
          var nth = (memberNo.get(g) || 0); memberNo.set(g, nth + 1);
          one.color = groupColor(g); one.dash = ["solid", "dash", "dot", "dashdot", "longdash"][nth % 5];
        }
        singles.push(one); return;
      }
      var k = g + "\u0000" + l.tag;
      if (!groups.has(k)) {  /* merged charts: the series' suffix ("train", "val") and its dash, not the run's name */
        var suffix = l.label.indexOf(l.run + ": ") === 0 ? l.label.slice(l.run.length + 2) : l.label;
        groups.set(k, {name: g, tag: l.tag, members: [], label: suffix, dash: l.dash});
      }
      groups.get(k).members.push(l.run);
    });
    var gl = Array.from(groups.values());
    gl.forEach(function (g) { g.k = gkey(g.name, g.members, g.tag, card); });
    return {groups: gl, singles: singles};
  }
  function loadingGroups() { return !!(C.by && C.key && !C.groups && !C.groupsErr); }
  X.sig = function (card) {
    if (loadingGroups()) { return "wait"; }
    if (!grouping() && !C.xtag) { return null; }
    var p = plan(card, V.cardLines(card.spec));
    return sigOf(card, p);
  };
  function sigOf(card, p) {
    return ["ext", C.stat, C.band, C.xtag, S.xAxis, S.logX, S.logY, S.theme, V.settingsKey(),
            p.groups.map(function (g) { return g.k + (C.gdata.has(g.k) ? "+" : "-"); }).join(","),
            p.singles.map(function (l) {
              var s = single(card, l); return l.run + l.tag + (s ? s.version + ":" + s.step.length : "-");
            }).join(",")].join("|");
  }
  function single(card, l) { return C.xtag ? C.xdata.get(xkey(l.run, l.tag, card)) : V.dataOf(card, l); }

  /* true when this module draws the cards (groups or a custom x tag): the page then fetches
     nothing ahead for cards off screen (X.draw fetches what a card needs when it is drawn) */
  X.owns = function () { return loadingGroups() || grouping() || !!C.xtag; };
  X.draw = function (card, lines) {
    if (loadingGroups()) { loadGroups(); return {wait: true}; }
    if (!grouping() && !C.xtag) { card.vbEntries = null; return null; }
    var p = plan(card, lines), gMiss = [], xMiss = [], wait = false;
    p.groups.forEach(function (g) {
      if (!C.gdata.has(g.k)) { wait = true; if (!C.pending.has(g.k)) { gMiss.push(g); } }
    });
    if (C.xtag) {
      p.singles.forEach(function (l) {
        var k = xkey(l.run, l.tag, card);
        if (!C.xdata.has(k)) { wait = true; if (!C.pending.has(k)) { xMiss.push({run: l.run, tag: l.tag, k: k}); } }
      });
    } else {
      var miss = V.need({spec: card.spec});
      var wanted = new Set(p.singles.map(function (l) { return l.run + "\u0000" + l.tag; }));
      miss = miss.filter(function (it) { return wanted.has(it[0] + "\u0000" + it[1]); });
      if (miss.length) { V.request(miss); wait = true; }
    }
    if (gMiss.length || xMiss.length) { fetchMissing(gMiss, xMiss, card); }
    if (wait) { return {wait: true}; }
    var sig = sigOf(card, p);
    if (sig === card.sig) { return {wait: true}; }
    var fig = figure(card, p);
    fig.sig = sig;
    return fig;
  };

  /* ---- figure of an extension-drawn card ---- */
  function figure(card, p) {
    var th = V.themeLayout(), data = [], entries = [], smoothing = S.smooth !== "none";
    var tAxis = timeAxis(), unit = extUnit(card, p), xTitle = C.xtag || "step";
    if (tAxis === "relative") { xTitle = "relative time (" + unit[0] + ")" + (p.groups.length ? ", groups at their runs' mean" : ""); }
    if (tAxis === "wall_time") { xTitle = "wall time (UTC)" + (p.groups.length ? ", groups at their runs' mean" : ""); }
    var timeNote = tAxis && p.groups.length ? "<br><i>x: the mean " + (tAxis === "relative" ? "relative" : "wall") +
      " time of the runs at this step</i>" : "";
    p.groups.forEach(function (g) {
      var a = C.gdata.get(g.k);
      if (!a) { return; }
      var color = groupColor(g.name), x = groupX(a, tAxis, unit), n = a.members.length;
      var name = V.esc(g.name + (g.tag !== card.spec.title && card.spec.kind !== "tag" ? ": " + g.label : "")) + " (" + n + ")";
      var custom = new Array(x.length);
      for (var i = 0; i < x.length; i++) {
        custom[i] = [a.count[i], a.lo[i], a.hi[i], a.interp[i] ? "<br><i>interpolated between logged steps</i>" : "", a.step[i]];
      }
      var meta = {group: g.name, tag: g.tag};
      if (C.band !== "none") {
        data.push({type: "scatter", x: x, y: a.lo, mode: "lines", line: {width: 0, color: color}, hoverinfo: "skip",
                   showlegend: false, legendgroup: name, meta: Object.assign({role: "band-lo"}, meta)});
        data.push({type: "scatter", x: x, y: a.hi, mode: "lines", line: {width: 0, color: color}, fill: "tonexty",
                   fillcolor: hexA(color, 0.22), hoverinfo: "skip", showlegend: false, legendgroup: name,
                   meta: Object.assign({role: "band-hi"}, meta)});
      }
      data.push({type: "scatter", x: x, y: a.line, mode: a.n <= 30 ? "lines+markers" : "lines", name: name, legendgroup: name,
        line: {color: color, width: 2, dash: g.dash || "solid"}, marker: {size: 5, color: color}, customdata: custom,
        hovertemplate: "<b>%{fullData.name}</b> \u00b7 group of " + n + " runs<br>step %{customdata[4]:,d}" +
          (C.xtag ? "<br>" + V.esc(C.xtag) + " %{x:.6g}" : "") + "<br>" + C.stat + (smoothing ? " (smoothed)" : "") +
          " %{y:.6g}" + (C.band !== "none" ? "<br>" + BAND_LABEL[C.band] + " %{customdata[1]:.6g} \u2026 %{customdata[2]:.6g}" : "") +
          "<br>%{customdata[0]} of " + n + " runs at this step%{customdata[3]}" + timeNote + "<extra></extra>",
        meta: Object.assign({role: "group"}, meta)});
      entries.push({name: g.name + " (" + n + ")", color: color, x: x, step: a.step, value: a.line, sm: null,
                    lo: C.band !== "none" ? a.lo : null, hi: C.band !== "none" ? a.hi : null, count: a.count, rel: null});
    });
    p.singles.forEach(function (l) {
      var s = single(card, l);
      if (!s) { return; }
      var x = C.xtag ? s.x : (tAxis ? V.xOf(s, unit) : s.step);
      var name = V.esc(l.label) + (l.group !== undefined ? " [" + V.esc(l.group) + "]" : "");
      var custom = new Array(s.step.length);
      for (var i = 0; i < s.step.length; i++) { custom[i] = [s.value[i], s.step[i]]; }
      var meta = {run: l.run, tag: l.tag, memberOf: l.group};
      var tmpl = "<b>%{fullData.name}</b><br>step %{customdata[1]:,d}" + (C.xtag ? "<br>" + V.esc(C.xtag) + " %{x:.6g}" : "") +
        "<br>value %{customdata[0]:.6g}";
      if (smoothing && s.sm) {
        data.push({type: "scatter", x: x, y: s.value, mode: "lines", line: {color: l.color, width: 1, dash: l.dash}, opacity: 0.25,
                   hoverinfo: "skip", showlegend: false, legendgroup: name, meta: Object.assign({role: "raw"}, meta)});
        data.push({type: "scatter", x: x, y: s.sm, mode: "lines", name: name, legendgroup: name, customdata: custom,
                   line: {color: l.color, width: 1.8, dash: l.dash}, hovertemplate: tmpl + "<br>smoothed %{y:.6g}<extra></extra>",
                   meta: Object.assign({role: "smoothed"}, meta)});
      } else {
        data.push({type: "scatter", x: x, y: s.value, mode: "lines", name: name, legendgroup: name, customdata: custom,
                   line: {color: l.color, width: 1.5, dash: l.dash}, hovertemplate: tmpl + "<extra></extra>",
                   meta: Object.assign({role: "raw"}, meta)});
      }
      entries.push({name: l.label, color: l.color, x: x, step: s.step, value: s.value, sm: s.sm, rel: s.rel, unit: unit});
    });
    card.vbEntries = entries;
    card.unit = unit;
    var n = data.filter(function (d) { return d.showlegend !== false; }).length;
    var legend = n > 1 && n <= 12;
    var layout = {
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: th.dark ? "#1e1e1e" : "#ffffff",
      font: {family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: th.fg},
      margin: {l: 50, r: 10, t: 10, b: 40 + (legend ? 18 * Math.ceil(n / 3) : 0)},
      xaxis: {title: {text: V.esc(xTitle)}, type: tAxis === "wall_time" ? "date" : (S.logX ? "log" : "linear"),
              gridcolor: th.grid, zerolinecolor: th.grid, automargin: true, hoverformat: C.xtag || tAxis ? undefined : ",d"},
      yaxis: {type: S.logY ? "log" : "linear", gridcolor: th.grid, zerolinecolor: th.grid, automargin: true},
      hovermode: "closest", hoverlabel: {namelength: -1}, showlegend: legend,
      uirevision: card.spec.key + "|" + C.xtag + "|" + tAxis + "|" + unit[0] + "|" + S.logX + "|" + S.logY,
      legend: {orientation: "h", yref: "container", y: 0, yanchor: "bottom", x: 0, font: {size: 10}}, autosize: true
    };
    return {data: data, layout: layout};
  }
  /* A group's x as drawn: steps, the x tag's values, or on a time axis its runs' mean time (seconds
     from the server) in the card's unit (relative) or as epoch milliseconds (wall time, a date axis). */
  function groupX(a, tAxis, unit) {
    if (!a.x || !tAxis) { return a.x || a.step; }
    var out = new Float64Array(a.x.length), k = tAxis === "wall_time" ? 1000 : 1 / unit[1];
    for (var i = 0; i < out.length; i++) { out[i] = a.x[i] * k; }
    return out;
  }
  /* The relative-time unit of an extension-drawn card (as the page picks it: the largest unit the span fills twice). */
  function extUnit(card, p) {
    if (timeAxis() !== "relative") { return ["s", 1]; }
    if (card.vbZoom && card.unit) { return card.unit; }  /* a zoom is in the unit it was drawn in */
    var most = 0;
    p.groups.forEach(function (g) { var a = C.gdata.get(g.k); if (a && a.x) { for (var i = 0; i < a.x.length; i++) { if (a.x[i] > most) { most = a.x[i]; } } } });
    p.singles.forEach(function (l) { var s = single(card, l); if (s && s.rel && s.rel.length) { most = Math.max(most, s.rel[s.rel.length - 1]); } });
    var u = REL_UNITS[0];
    REL_UNITS.forEach(function (c) { if (most >= 2 * c[1]) { u = c; } });
    return u;
  }
  /* Zoom on an extension-drawn card: the window is asked again at full resolution (x_range, in the
     x tag's units, steps, or seconds on a time axis; ungrouped runs without an x tag keep the drawn points). */
  X.relayout = function (card, ev) {
    if (!card.vbEntries) { return false; }
    var raw = null;
    if (ev["xaxis.autorange"]) { if (card.vbZoom) { card.vbZoom = null; V.ensureDrawn(card); } return true; }
    if ("xaxis.range[0]" in ev) { raw = [ev["xaxis.range[0]"], ev["xaxis.range[1]"]]; }
    else if (Array.isArray(ev["xaxis.range"])) { raw = ev["xaxis.range"].slice(0, 2); }
    if (!raw) { return true; }
    var tAxis = timeAxis(), unit = card.unit || ["s", 1];
    card.vbZoom = raw.map(function (v) {
      if (tAxis === "wall_time") { return Date.parse(String(v).replace(" ", "T") + (/Z|[+-]\d\d:?\d\d$/.test(String(v)) ? "" : "Z")) / 1000; }
      if (tAxis === "relative") { return Number(v) * unit[1]; }
      return S.logX ? Math.pow(10, Number(v)) : Number(v);
    }).sort(function (a, b) { return a - b; });
    if (card.vbZoom.some(function (v) { return !isFinite(v); })) { card.vbZoom = null; }
    V.ensureDrawn(card);
    return true;
  };
  X.legendclick = function (card, ev) {
    var t = ev && ev.data && ev.data[ev.curveNumber], m = t && t.meta;
    if (m && m.group !== undefined && m.role === "group") { toggleGroup(m.group); return false; }
    if (m && m.memberOf !== undefined && m.memberOf !== null) { toggleGroup(m.memberOf); return false; }
    return true;
  };

  /* ---- step cursor and readout ---- */
  function nearest(x, v) {
    var best = -1, d = Infinity;
    for (var i = 0; i < x.length; i++) { var e = Math.abs(x[i] - v); if (e < d) { d = e; best = i; } }
    return best;
  }
  function defaultEntries(card) {
    var lines = V.cardLines(card.spec), unit = card.unit || ["s", 1], out = [];
    lines.forEach(function (l) {
      var s = V.dataOf(card, l);
      if (!s) { return; }
      out.push({name: l.label, color: l.color, x: V.xOf(s, unit), step: s.step, value: s.value, sm: s.sm, rel: s.rel, unit: unit});
    });
    return out;
  }
  function fmtRel(sec) {
    if (!isFinite(sec)) { return ""; }
    if (sec < 120) { return sec.toFixed(1) + " s"; }
    if (sec < 7200) { return (sec / 60).toFixed(1) + " min"; }
    if (sec < 172800) { return (sec / 3600).toFixed(2) + " h"; }
    return (sec / 86400).toFixed(2) + " days";
  }
  function fmt(v) { return v === null || v === undefined ? "" : (isFinite(v) ? Number(v).toPrecision(6).replace(/\.?0+(e|$)/, "$1") : String(v)); }
  function readout(card, xv) {
    var box = card.el.querySelector(".vb-readout");
    if (!box) { box = el("div", {className: "vb-readout"}); card.el.appendChild(box); }
    var entries = card.vbEntries || defaultEntries(card), rows = [], grouped = entries.some(function (e) { return e.lo || e.count; });
    entries.forEach(function (e) {
      if (!e.x || !e.x.length) { return; }
      var i = nearest(e.x, xv);
      if (i < 0) { return; }
      rows.push({e: e, i: i});
    });
    var head = ["", "run", "value", grouped ? "band" : "smoothed", "step", grouped ? "runs" : "relative"];
    var t = el("table", {className: "vb-readout-table"}), tr = el("tr");
    head.forEach(function (h) { tr.appendChild(el("th", {}, h)); });
    t.appendChild(tr);
    rows.slice(0, 30).forEach(function (r) {
      var e = r.e, i = r.i, row = el("tr", {"data-vb-row": e.name});
      var sw = el("td"), dot = el("span", {className: "vb-swatch"}); dot.style.background = e.color; sw.appendChild(dot); row.appendChild(sw);
      row.appendChild(el("td", {}, e.name));
      row.appendChild(el("td", {}, fmt(e.value[i])));
      row.appendChild(el("td", {}, e.lo ? fmt(e.lo[i]) + " \u2026 " + fmt(e.hi[i]) : (e.sm ? fmt(e.sm[i]) : "")));
      row.appendChild(el("td", {}, Number(e.step[i]).toLocaleString("en-US")));
      row.appendChild(el("td", {}, e.count ? String(e.count[i]) : (e.rel ? fmtRel(e.rel[i]) : "")));
      t.appendChild(row);
    });
    box.textContent = "";
    box.appendChild(t);
    if (rows.length > 30) { box.appendChild(el("div", {className: "vb-readout-more"}, "\u2026 and " + (rows.length - 30) + " more")); }
    box.hidden = false;
  }
  var raf = 0, pendingHover = null;
  X.hover = function (card, ev) {
    var pt = ev && ev.points && ev.points[0];
    if (!pt) { return; }
    pendingHover = {card: card, x: pt.x};
    if (raf) { return; }
    raf = requestAnimationFrame(function () {
      raf = 0;
      var h = pendingHover; pendingHover = null;
      if (!h) { return; }
      var xv = typeof h.x === "string" ? Date.parse(h.x.replace(" ", "T") + "Z") : Number(h.x);
      C.cursor = {card: h.card, x: h.x};
      /* relative time: each chart picks its own unit (s / min / h), so go through seconds */
      var rel = S.xAxis === "relative" && !C.xtag, secs = rel ? xv * (h.card.unit || REL_UNITS[0])[1] : null;
      S.cards.forEach(function (c) {
        if (!c.gd || !c.gd._fullLayout || c.hidden || !c.visible) { return; }
        var cx = rel ? secs / (c.unit || REL_UNITS[0])[1] : h.x;
        window.vbPlotly.relayout(c.gd, {shapes: [{type: "line", xref: "x", yref: "paper", x0: cx, x1: cx, y0: 0, y1: 1,
          line: {color: "rgba(120,120,120,0.8)", width: 1, dash: "dot"}}]});
        c.el.setAttribute("data-vb-cursor", String(cx));
      });
      readout(h.card, xv);
    });
  };
  X.unhover = function (card) {
    setTimeout(function () {
      if (C.cursor && C.cursor.card === card && !card.el.matches(":hover")) {
        C.cursor = null;
        S.cards.forEach(function (c) {
          if (c.el.hasAttribute("data-vb-cursor") && c.gd && c.gd._fullLayout) { window.vbPlotly.relayout(c.gd, {shapes: []}); }
          c.el.removeAttribute("data-vb-cursor");
          var b = c.el.querySelector(".vb-readout"); if (b) { b.hidden = true; }
        });
      }
    }, 400);
  };

  /* ---- wiring ---- */
  X.mount = function (root) { buildBar(root); if (C.by && C.key) { loadGroups(); } };
  X.changed = function () { renderChips(); };
  X.init = function (api) {
    V = api; S = api.state;
    var last = -2, lastHash = "";
    setInterval(function () {  /* new data version or structure: group members and the tag list may change */
      if (!S.ready) { return; }
      if (S.hash !== lastHash) { lastHash = S.hash; renderXtags(); }
      if (S.version !== last) {
        last = S.version;
        if (C.by && C.key) { loadGroups(); }
        /* answers of older data versions go once the new ones came (the drawn charts keep theirs meanwhile) */
        [C.gdata, C.xdata].forEach(function (m) {
          if (m.size > 4000) { m.clear(); return; }
          m.forEach(function (v, k) { if (k.slice(k.lastIndexOf("\u0000") + 1) !== String(S.version) && !C.pending.size) { m.delete(k); } });
        });
      }
    }, 500);
  };
  if (window.vbScalars && !V) { X.init(window.vbScalars); }  /* loaded after the page core */
})();
