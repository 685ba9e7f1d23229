"""The index page runs plotly.js's basic bundle and the Scalars page before Dash's bundles (issue 11)."""

from __future__ import annotations

import gzip
import re

from tests.unit.fake_provider import FakeProvider
from vizboard.app import PLOTLY_BASIC_JS, create_app, defer_suites, page_scripts_first
from vizboard.config import ServeConfig


def _index_scripts(html: str) -> list[str]:
    """Every script the footer runs, in order: its src, or "inline:" and its first 40 characters
    (Dash's JSON config block is data, not a script, and is left out)."""
    footer = html[html.index("<footer>"):]
    out = []
    for m in re.finditer(r'<script([^>]*)>(.*?)</script>', footer, re.S):
        attrs = m.group(1)
        if "application/json" in attrs:
            continue
        src = re.search(r'src="([^"]+)"', attrs)
        out.append(src.group(1) if src else "inline:" + m.group(2).strip()[:40])
    return out


def test_page_scripts_run_first_and_dash_keeps_its_order() -> None:
    app = create_app(ServeConfig(logdir="/nonexistent"), FakeProvider())
    scripts = _index_scripts(app.server.test_client().get("/").get_data(as_text=True))
    srcs = [s for s in scripts if not s.startswith("inline:")]
    assert srcs[0].startswith("_vb/plotly-basic-") and srcs[0].endswith(".min.js")
    assert scripts[0] == srcs[0] and scripts[1].startswith("inline:window.vbPlotly = window.Plotly")
    assert "assets/scalars_compare.js" in srcs[1] and "assets/scalars_page.js" in srcs[2]
    # the full bundle is not on the page: dcc.Graph loads it for the tabs that need it
    assert not any("plotly.min.js" in s for s in srcs)
    dash_order = [s.split("/")[-1].split(".")[0] for s in srcs[3:]]
    react = [d for d in dash_order if d.startswith(("polyfill", "react", "prop-types"))]
    assert react == ["polyfill@7", "react@18", "react-dom@18", "prop-types@15"]
    assert dash_order.index("dash_renderer") < dash_order.index("dash_core_components")
    assert dash_order.index("prop-types@15") < dash_order.index("dash_renderer")


def test_page_scripts_first_moves_only_plain_script_tags() -> None:
    given = "\n".join([
        '<script src="/a/react.js"></script>',
        '<script src="/assets/scalars_page.js?m=2"></script>',
        "<script>var inline = 'assets/scalars_page.js';</script>",
        '<script src="/assets/scalars_compare.js?m=1"></script>',
        '<script src="_vb/plotly-basic-4.1.1.min.js"></script>',
        '<script src="/b/renderer.js"></script>',
    ])
    lines = page_scripts_first(given).split("\n")
    assert lines[0] == '<script src="_vb/plotly-basic-4.1.1.min.js"></script>'
    assert lines[1].startswith("<script>window.vbPlotly = window.Plotly;")
    assert lines[2:4] == ['<script src="/assets/scalars_compare.js?m=1"></script>',
                          '<script src="/assets/scalars_page.js?m=2"></script>']
    assert lines[4:] == ['<script src="/a/react.js"></script>',
                         "<script>var inline = 'assets/scalars_page.js';</script>",
                         '<script src="/b/renderer.js"></script>']
    # without the bundle on the page (a custom index), nothing is handed over
    assert "vbPlotly" not in page_scripts_first('<script src="/assets/scalars_page.js"></script>')


def test_basic_bundle_is_served_gzipped_and_cached_for_a_year() -> None:
    app = create_app(ServeConfig(logdir="/nonexistent"), FakeProvider())
    c = app.server.test_client()
    src = _index_scripts(c.get("/").get_data(as_text=True))[0]
    resp = c.get("/" + src, headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200 and resp.headers["Content-Encoding"] == "gzip"
    assert "immutable" in resp.headers["Cache-Control"] and "max-age=31536000" in resp.headers["Cache-Control"]
    body = gzip.decompress(resp.data)
    assert body == PLOTLY_BASIC_JS.read_bytes()
    version = re.search(rb"plotly\.js \(basic - minified\) v(\d+\.\d+\.\d+)", body[:200])
    assert version is not None and f"-{version.group(1).decode()}.min.js" in src  # the URL names the file's version


def test_defer_suites_takes_out_only_the_named_suites_bundles_and_says_where_they_are() -> None:
    given = "\n".join([
        '<script src="/p/_dash-component-suites/dash/deps/react@18.min.js"></script>',
        '<script src="/p/_dash-component-suites/dash_cytoscape/dash_cytoscape.v1m2.min.js"></script>',
        "<script>var s = '_dash-component-suites/dash_cytoscape/x.js';</script>",
        '<script src="/p/_dash-component-suites/dash/dcc/dash_core_components.js"></script>',
    ])
    lines = defer_suites(given, {"graphs": ("dash_cytoscape",), "other": ("not_there",)}).split("\n")
    assert lines[:3] == ['<script src="/p/_dash-component-suites/dash/deps/react@18.min.js"></script>',
                         "<script>var s = '_dash-component-suites/dash_cytoscape/x.js';</script>",
                         '<script src="/p/_dash-component-suites/dash/dcc/dash_core_components.js"></script>']
    assert lines[3] == ('<script>window.vbLazySuites = {"graphs": '
                        '["/p/_dash-component-suites/dash_cytoscape/dash_cytoscape.v1m2.min.js"]};</script>')
    assert defer_suites(given, {}) == given
    assert defer_suites(given, {"graphs": ("dash_table",)}) == given


def test_the_index_page_leaves_the_graphs_tabs_cytoscape_bundle_to_that_tab() -> None:
    app = create_app(ServeConfig(logdir="/nonexistent"), FakeProvider())
    scripts = _index_scripts(app.server.test_client().get("/").get_data(as_text=True))
    assert not [s for s in scripts if "dash_cytoscape" in s and not s.startswith("inline:")]
    assert any(s.startswith("inline:window.vbLazySuites = {\"graphs\"") for s in scripts)
