/* vizboard's small page scripts: the live version poll, and the clientside callbacks for theme, full screen, SVG export. */
(function () {
  /* --token: the server has set its cookie; keep the token out of the address bar and history. */
  var q = new URLSearchParams(window.location.search);
  if (q.has("token")) {
    q.delete("token");
    var s = q.toString();
    window.history.replaceState(null, "", window.location.pathname + (s ? "?" + s : "") + window.location.hash);
  }
})();
/* A script loaded once per URL: resolves when it has run, and also when the load failed (warned;
   the tab that needed it then shows its components' errors, the rest of the page is unaffected). */
window.vbLoadScript = function (src) {
  var loads = window.vbScriptLoads || (window.vbScriptLoads = {});
  if (!loads[src]) {
    loads[src] = new Promise(function (resolve) {
      var s = document.createElement("script");
      s.src = src;
      s.async = true;
      s.onload = function () { resolve(); };
      s.onerror = function () { console.warn("vizboard: " + src + " did not load"); resolve(); };
      document.head.appendChild(s);
    });
  }
  return loads[src];
};
/* The full plotly.js, loaded once, for the tabs that draw trace types outside the basic bundle
   the page starts with (app.py: Dashboard.full_plotly). It replaces window.Plotly (what dcc.Graph
   draws with); the Scalars page keeps the basic bundle (window.vbPlotly). */
window.vbFullPlotly = function () {
  if (window.Plotly && window.Plotly !== window.vbPlotly) { return Promise.resolve(); }
  return window.vbLoadScript(window._dashPlotlyJSURL ||
    (window.location.pathname.replace(/\/+$/, "") + "/_dash-component-suites/plotly/package_data/plotly.min.js"));
};
/* A tab's own component suites (app.py defer_suites: window.vbLazySuites, tab id -> script
   URLs), loaded in order before the tab's page is asked for. Null when the tab has none. */
window.vbLoadSuites = function (tab) {
  var srcs = (window.vbLazySuites || {})[tab];
  if (!srcs || !srcs.length) { return null; }
  return srcs.reduce(function (prev, src) {
    return prev.then(function () { return window.vbLoadScript(src); });
  }, Promise.resolve());
};
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  vizboard: {
    /* Theme: the user's pick (localStorage) or the OS preference; the button flips it. The index
       page's head script applies the same rule before the first chart is drawn (app.py _INDEX). */
    theme: function (n) {
      var key = "vizboard-theme";
      var t = null;
      try { t = window.localStorage.getItem(key); } catch (e) {}
      if (!t) {
        t = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
      }
      if (n) {
        t = t === "dark" ? "light" : "dark";
        try { window.localStorage.setItem(key, t); } catch (e) {}
      }
      document.documentElement.setAttribute("data-theme", t);
      return t;
    },
    toggleFullscreen: function (n, cls) {
      cls = cls || "vb-card";
      var on = cls.indexOf("vb-fullscreen") >= 0;
      setTimeout(function () { window.dispatchEvent(new Event("resize")); }, 50);
      return on ? cls.replace(/\s*vb-fullscreen/, "") : cls + " vb-fullscreen";
    },
    downloadSvg: function (n, filename) {
      var ctx = window.dash_clientside.callback_context;
      var id = ctx.triggered_id || JSON.parse(ctx.triggered[0].prop_id.split(".")[0]);
      var cardId = JSON.stringify({card: id.card, type: id.type.replace(/-svg$/, "-card")});
      var card = document.getElementById(cardId);
      var gd = card && card.querySelector(".js-plotly-plot");
      if (gd && window.Plotly) {
        window.Plotly.downloadImage(gd, {format: "svg", filename: filename || "chart"});
      }
      return window.dash_clientside.no_update;
    }
  }
});

/* The live check: every data-interval-ms, fetch /api/version and write the data version and
   loading stores (ids in the header's #shell-live-interval element) with set_props, only when
   they changed (since the layout was served: its data-version and data-loading). A plain timer,
   not a dcc.Interval: an idle tick costs one fetch and no Dash work. Paused while the browser tab is hidden (one poll at once when it is shown again); after
   a failed poll the next waits longer, up to 10 s. */
(function () {
  var el = null, last = {version: -1, loading: true}, timer = null, fails = 0, busy = false;
  function interval() { return Math.max(50, Number(el.dataset.intervalMs) || 300); }
  function schedule(ms) { clearTimeout(timer); timer = document.hidden ? null : setTimeout(poll, ms); }
  function poll() {
    timer = null;
    if (busy) { return; }
    busy = true;
    var base = window.location.pathname.replace(/\/+$/, "");
    fetch(base + "/api/version", {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (j) {
        fails = 0;
        var set = window.dash_clientside && window.dash_clientside.set_props;
        if (!set) { return; }
        if (j.version !== last.version) { last.version = j.version; set(el.dataset.versionStore, {data: j.version}); }
        if (j.loading !== last.loading) { last.loading = j.loading; set(el.dataset.loadingStore, {data: j.loading}); }
        el.dataset.seenVersion = String(j.version);  /* for tests: the answer is in the stores */
      })
      .catch(function () { fails += 1; })
      .then(function () {
        busy = false;
        schedule(fails ? Math.min(10000, interval() * Math.pow(2, fails)) : interval());
      });
  }
  function start() {
    el = document.getElementById("shell-live-interval");
    if (!el || !window.dash_clientside || !window.dash_clientside.set_props) { return false; }
    /* the stores start from what the layout was served with: a first answer equal to it changes nothing */
    if (el.dataset.version !== undefined) { last.version = Number(el.dataset.version); }
    if (el.dataset.loading !== undefined) { last.loading = el.dataset.loading === "true"; }
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) { clearTimeout(timer); timer = null; } else if (!timer) { schedule(0); }
    });
    schedule(0);
    return true;
  }
  /* the element comes with Dash's first render of the layout, after this script has run */
  function wait() { if (!start()) { setTimeout(wait, 50); } }
  wait();
})();
