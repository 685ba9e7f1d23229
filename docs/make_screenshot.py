r"""Make docs/screenshot.png (Scalars, runs grouped by ``(.*)_seed\d+`` with bands) and docs/runs_table.png (Runs tab).

Runs the demo sweep (runs ``lr_<lr>_seed<k>``), serves it, and photographs both in headless Chromium.

Usage (from the repository root)::

    python docs/make_screenshot.py                 # trains the default demo into a temp dir first
    python docs/make_screenshot.py --logdir runs/demo-...   # or photograph an existing logdir
    python docs/make_screenshot.py --table docs/runs_table.png   # where the Runs tab picture goes (default)

Needs torch (unless --logdir is given), Playwright's Python package and /usr/bin/chromium.
The PNG is quantised to 256 colours so it stays small (the README embeds it).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["main", "take_screenshot"]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
MAX_BYTES = 300_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


GROUP_QUERY = "?g_by=regex&g_key=%28.%2A%29_seed%5Cd%2B&g_band=minmax"
r"""The Scalars view photographed: runs grouped by ``(.*)_seed\d+`` (mean line, min-max band)."""


def _quantise(raw: Path, out: Path) -> int:
    from PIL import Image

    img = Image.open(raw).convert("RGB")
    img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)
    raw.unlink()
    return out.stat().st_size


def take_screenshot(logdir: str, out: Path, width: int = 1400, height: int = 900, table: Path | None = None) -> int:
    """Serve ``logdir``, photograph the grouped Scalars tab into ``out`` and (with ``table``) the Runs tab
    into ``table`` (PNGs, 256 colours); returns the size of ``out`` in bytes."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p))
    server = subprocess.Popen([sys.executable, "-m", "vizboard", "serve", logdir, "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/api/version", server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": width, "height": height}, color_scheme="light")
                page.set_default_timeout(60_000)
                page.goto(base + "/" + GROUP_QUERY)
                page.locator(".vb-card .js-plotly-plot .scatterlayer .trace").first.wait_for()
                # the grouped charts: a mean line and a filled band per group
                page.wait_for_function("() => { const gd = document.querySelector("
                                       "'.vb-chart-card[data-vb-drawn] .js-plotly-plot');"
                                       " return gd && gd.data.some(d => d.meta && d.meta.role === 'group'); }")
                # Every card in view has drawn its lines (Plotly renders cards as they arrive).
                page.wait_for_function(
                    "() => { const cards = [...document.querySelectorAll('.vb-card')].filter(c => {"
                    " const r = c.getBoundingClientRect(); return r.top < window.innerHeight; });"
                    " return cards.length > 0 && cards.every(c => c.querySelector('.scatterlayer .trace')); }")
                page.wait_for_timeout(1000)  # let transitions settle
                raw = out.with_suffix(".raw.png")
                page.screenshot(path=str(raw))
                if table is not None:
                    # wide enough that the chosen metrics' last/min/max columns show next to the hparams
                    page.set_viewport_size({"width": max(width, 2000), "height": 660})
                    page.goto(base + "/?tab=runs")
                    page.locator("#runs-table td[data-dash-column='run']").first.wait_for()
                    page.wait_for_timeout(1000)
                    traw = table.with_suffix(".raw.png")
                    page.screenshot(path=str(traw))
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait(10)
    if table is not None:
        _quantise(table.with_suffix(".raw.png"), table)
    return _quantise(raw, out)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit code."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--logdir", default=None, help="photograph this logdir instead of training the demo")
    p.add_argument("-o", "--output", default=str(REPO / "docs" / "screenshot.png"))
    p.add_argument("--table", default=str(REPO / "docs" / "runs_table.png"), help="the Runs tab picture")
    args = p.parse_args(argv)
    logdir = args.logdir
    if logdir is None:
        logdir = tempfile.mkdtemp(prefix="vizboard-screenshot-")
        subprocess.run([sys.executable, str(REPO / "demo" / "train.py"), "--logdir", logdir], check=True)
    size = take_screenshot(logdir, Path(args.output), table=Path(args.table))
    print(f"wrote {args.output} ({size / 1000:.0f} kB) and {args.table}")
    if size > MAX_BYTES:
        print(f"warning: larger than {MAX_BYTES / 1000:.0f} kB", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
