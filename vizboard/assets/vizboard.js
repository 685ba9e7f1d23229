/* vizboard's small clientside callbacks: live version polling, theme, full screen, SVG export. */
(function () {
  /* --token: the server has set its cookie; keep the token out of the address bar and history. */
  var q = new URLSearchParams(window.location.search);
  if (q.has("token")) {
    q.delete("token");
    var s = q.toString();
    window.history.replaceState(null, "", window.location.pathname + (s ? "?" + s : "") + window.location.hash);
  }
})();
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  vizboard: {
    /* Poll /api/version; change the stores only when the data (or the loading flag) changed. */
    pollVersion: function (n, version, loading) {
      var nu = window.dash_clientside.no_update;
      var base = window.location.pathname.replace(/\/+$/, "");
      return fetch(base + "/api/version", {credentials: "same-origin", cache: "no-store"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          if (!j) { return [nu, nu]; }
          return [j.version === version ? nu : j.version, j.loading === loading ? nu : j.loading];
        })
        .catch(function () { return [nu, nu]; });
    },
    /* Theme: the user's pick (localStorage) or the OS preference; the button flips it. */
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
