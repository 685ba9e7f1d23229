"""What "drawn" means on each dashboard: the in-page probes the UI benchmark waits on.

Both dashboards get the same questions, answered from their own DOM:

- **vizboard** (``/``): the Scalars page's contract hooks (``docs``: UI-CONTRACT): a card is a
  ``.vb-chart-card`` whose ``data-vb-drawn`` attribute lists the runs drawn once Plotly's draw
  promise resolved. Pages older than the contract have no such hook; there a card (``.vb-card``)
  counts as drawn when its Plotly graph holds one rendered ``g.trace`` per trace of its data and
  the runs named in the traces' ``meta`` are the expected ones (the fallback, used only when no
  ``.vb-chart-card`` exists).
- **TensorBoard** (``/#timeseries``): its line charts render in a Web Worker into an
  OffscreenCanvas (WebGL; SwiftShader here), so the DOM holds no line. An init script, installed
  before TensorBoard's code runs, observes the messages the page sends each chart's worker (the
  series metadata: which series are visible; the series data) and the worker's "redraw ended"
  replies. A chart counts as drawn when its visible, non-auxiliary series (one per run: the
  smoothed line; the raw line is auxiliary) are exactly the expected runs, each of them has
  data, and a redraw ended after the last metadata and data message. That is the same moment
  as vizboard's "Plotly's draw promise resolved": the pixels of the new state are painted.

Exposed as ``window.__vbBench`` with the same functions on both pages; :data:`PROBE_JS` is
injected with ``page.add_init_script`` before the page's own scripts run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

__all__ = ["PROBE_JS", "UiAdapter", "OURS_UI", "TB_UI", "probe_script"]

_TB_HOOK = r"""
  // TensorBoard's worker charts: map each chart's canvas to its message port and watch both ways.
  const offToEl = new WeakMap(), p2 = new WeakMap(), p1 = new WeakMap();
  const origT = HTMLCanvasElement.prototype.transferControlToOffscreen;
  if (origT) HTMLCanvasElement.prototype.transferControlToOffscreen = function () {
    const off = origT.call(this); offToEl.set(off, this); return off; };
  const OrigMC = window.MessageChannel;
  window.MessageChannel = class extends OrigMC { constructor() { super();
    const st = {meta: null, metaAt: 0, data: null, dataAt: 0, redrawAt: 0};
    p2.set(this.port2, st); p1.set(this.port1, st);
    this.port1.addEventListener('message', e => {   // ON_REDRAW_END is type 0 from the worker
      if (e.data && e.data.type === 0) st.redrawAt = performance.now(); });
  } };
  const origWP = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (msg, transfer) {
    try { if (msg && msg.type === 4 && msg.canvas && Array.isArray(transfer)) {   // INIT
      for (const t of transfer) { const st = p2.get(t); const el = offToEl.get(msg.canvas);
        if (st && el) el.__vbChart = st; } } } catch (e) {}
    return origWP.apply(this, arguments); };
  const origPP = MessagePort.prototype.postMessage;
  MessagePort.prototype.postMessage = function (msg) {
    const st = p1.get(this);
    if (st && msg) {
      if (msg.type === 1 && msg.metadata) { st.meta = msg.metadata; st.metaAt = performance.now(); }
      else if (msg.type === 0 && msg.compactDataSeries) {
        st.data = new Map(msg.compactDataSeries.idsAndLengths.map(d => [d.id, d.length]));
        st.dataAt = performance.now(); }
    }
    return origPP.apply(this, arguments); };
  const cardsOf = root => Array.from(root.querySelectorAll('scalar-card'));
  const drawn = card => {
    const c = card.querySelector('canvas'); const st = c && c.__vbChart;
    if (!st || !st.meta || !st.data || st.redrawAt <= Math.max(st.metaAt, st.dataAt)) return null;
    const vis = Object.values(st.meta).filter(m => m.visible && !m.aux);
    if (!vis.every(m => (st.data.get(m.id) || 0) > 0)) return null;
    return vis.map(m => m.displayName).sort();
  };
"""

_OURS_HOOK = r"""
  const contract = () => document.querySelector('.vb-chart-card') !== null;
  const cardsOf = root => Array.from(root.querySelectorAll(contract() ? '.vb-chart-card' : '.vb-card'));
  const drawn = card => {
    if (card.classList.contains('vb-chart-card')) {
      const v = card.getAttribute('data-vb-drawn'); if (v === null) return null;
      try { return JSON.parse(v).slice().sort(); } catch (e) { return null; } }
    // Fallback for pages older than the contract: every trace rendered, runs from trace meta.
    const gd = card.querySelector('.js-plotly-plot'); const data = gd && gd._fullData;
    if (!data || gd.querySelectorAll('g.trace').length < data.length) return null;
    return Array.from(new Set(data.map(d => d.meta && d.meta.run).filter(Boolean))).sort();
  };
"""

_COMMON = r"""
  const inView = el => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < window.innerHeight; };
  const same = (a, b) => a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
  const sections = () => Array.from(document.querySelectorAll(SECTION));
  window.__vbBench = {
    cards: () => cardsOf(document).length,
    mode: () => MODE(),
    firstCurve: () => cardsOf(document).some(c => { const d = drawn(c); return d && d.length > 0; }),
    // true once at least one card is in view and every card in view shows exactly `expected`
    visibleDrawn: expected => { const e = expected.slice().sort();
      const vis = cardsOf(document).filter(inView);
      return vis.length > 0 && vis.every(c => same(drawn(c), e)); },
    visibleState: () => cardsOf(document).filter(inView).map(c => drawn(c)),
    // the run list is shown and no run in it is ticked (TensorBoard over 500 runs)
    noneSelected: () => { const rows = document.querySelectorAll(ROWS);
      return rows.length > 0 && !Array.from(rows).some(r => r.querySelector('input[type=checkbox]:checked')); },
    sectionCount: () => sections().length,
    // scroll section k's header to the top; open it (click its header) when it shows no card
    openSection: k => { const s = sections()[k]; if (!s) return 'missing';
      const head = s.querySelector(HEAD); (head || s).scrollIntoView({block: 'start'});
      const shown = cardsOf(s).some(c => c.getBoundingClientRect().height > 0);
      if (!shown && head) { head.click(); return 'clicked'; } return 'scrolled'; },
    // every card of section k in view shows `expected`; cards that opened below the fold are
    // scrolled to (the last sections cannot scroll their header to the top)
    sectionDrawn: (k, expected) => { const s = sections()[k]; if (!s) return false; const e = expected.slice().sort();
      const all = cardsOf(s), vis = all.filter(inView);
      if (vis.length === 0 && all.length > 0) { all[0].scrollIntoView({block: 'nearest'}); return false; }
      return vis.length > 0 && vis.every(c => same(drawn(c), e)); },
  };
"""


@dataclass(frozen=True)
class UiAdapter:
    """Where one dashboard keeps what the benchmark touches (CSS selectors) and its probe hook.

    ``section_css``/``head_css``/``rows_css`` feed the in-page probe; ``filter_css`` is the run
    regex input; ``select_all_css`` the control that ticks every run; ``checkbox_css`` formats a
    run name into the CSS of its run-list checkbox (candidates, first match wins).
    """

    name: str
    path: str
    hook: str
    mode_js: str
    section_css: str
    head_css: str
    filter_css: str
    checkbox_css: tuple[str, ...]
    select_all_css: str
    rows_css: str

    def checkbox_selectors(self, run: str) -> list[str]:
        """CSS selectors of ``run``'s checkbox in the run list, most specific hook first."""
        return [css.format(run=json.dumps(run), slash_run=json.dumps("/" + run)) for css in self.checkbox_css]


def probe_script(ui: UiAdapter) -> str:
    """The init script defining ``window.__vbBench`` for ``ui``'s page."""
    common = (_COMMON.replace("SECTION", json.dumps(ui.section_css))
              .replace("HEAD", json.dumps(ui.head_css)).replace("ROWS", json.dumps(ui.rows_css)).replace("MODE()", ui.mode_js))
    return "(() => {\n" + ui.hook + common + "})();\n"


OURS_UI = UiAdapter(
    name="vizboard",
    path="/",
    hook=_OURS_HOOK,
    mode_js="(contract() ? 'contract hooks (data-vb-drawn)' : 'fallback: Plotly traces rendered')",
    section_css=".vb-section",
    head_css=".vb-section-head",
    filter_css="#shell-run-filter",
    checkbox_css=("[data-vb-run={run}] input[type=checkbox]", "#shell-run-checklist input[value={run}]"),
    select_all_css="#shell-run-all",
    rows_css="[data-vb-run], #shell-run-checklist label",
)
TB_UI = UiAdapter(
    name="TensorBoard",
    path="/#timeseries",
    hook=_TB_HOOK,
    mode_js="'worker chart: redraw ended after series metadata+data'",
    section_css=".card-group",
    head_css=".group-toolbar",
    filter_css='runs-selector input[placeholder="Filter runs (regex)"]',
    checkbox_css=("runs-selector tb-data-table-content-row[data-id$={slash_run}] input[type=checkbox]",),
    select_all_css="runs-selector tb-data-table-header-cell.table-column-selected input[type=checkbox]",
    rows_css="runs-selector tb-data-table-content-row",
)

PROBE_JS = {OURS_UI.name: probe_script(OURS_UI), TB_UI.name: probe_script(TB_UI)}
"""Init script per dashboard name."""
