"""The Profile tab in Chromium: operator rows, step breakdown, timeline, system metrics, trace download."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from helpers import open_tab

from logger import SummaryWriter
from tests.torch_profiling import profile_tiny_model

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def logdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("profile_logdir")
    run = root / "run_a"
    with SummaryWriter(run, system_metrics=0.01) as w:
        for i in range(5):
            with w.timer("step", batch_size=8):
                with w.timer("forward"):
                    time.sleep(0.002)
            w.add_scalar("loss", 1.0 / (i + 1), i)
            w.timer.step()
        deadline = time.monotonic() + 10
        while w._system.samples < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    profile_tiny_model(run / "plugins" / "profile")
    broken = root / "broken" / "plugins" / "profile" / "host_9.999.pt.trace.json"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": 1')
    return root


def test_profile_tab_renders_and_downloads(logdir: Path, serve, page) -> None:
    from playwright.sync_api import expect

    open_tab(page, serve(logdir, "--reload-interval", "0.5"), "profile")
    rows = page.locator("#profile-ops tbody tr:has(td)")
    expect(rows.first).to_be_visible(timeout=30_000)
    expect(page.locator("#profile-ops")).to_contain_text("aten::addmm")
    expect(page.locator("#profile-ops")).to_contain_text("Optimizer.step#SGD.step")
    assert rows.count() >= 10
    # step breakdown: one stacked bar trace per phase, two profiled steps each
    steps = page.locator("#profile-steps .barlayer .trace")
    expect(steps).to_have_count(5, timeout=20_000)
    expect(page.locator("#profile-steps .legendtext", has_text="backward")).to_have_count(1)
    expect(page.locator("#profile-steps .barlayer .point").first).to_be_visible()
    # timeline of one step: horizontal bars
    expect(page.locator("#profile-timeline .barlayer .point").first).to_be_visible(timeout=20_000)
    expect(page.locator("#profile-timeline .gtitle")).to_contain_text("Step #")
    # system metrics and step timing sections
    expect(page.locator("#profile-system .scatterlayer .trace").first).to_be_attached(timeout=20_000)
    expect(page.locator("#profile-system")).to_contain_text("CPU (%)")
    expect(page.locator("#profile-timing")).to_contain_text("Throughput")

    # the raw trace downloads byte for byte (one server start for both checks: the machine is small)
    with page.expect_download(timeout=20_000) as info:
        page.click("#profile-download-button")
    download = info.value
    (trace,) = (logdir / "run_a" / "plugins" / "profile").glob("*.pt.trace.json")
    assert download.suggested_filename == trace.name
    got = Path(download.path()).read_bytes()
    assert got == trace.read_bytes()
    assert "traceEvents" in json.loads(got)

    # a half-written trace (traces-only directory) shows a clear message instead of breaking the tab
    page.click("#profile-trace")
    page.get_by_text("broken · host_9", exact=False).click()
    expect(page.locator("#profile-problem")).to_contain_text("not valid JSON", timeout=20_000)
    expect(page.locator("#profile-ops tbody tr:has(td)")).to_have_count(0)

    # a trace written while the tab is open is found by the tab's own poll (trace files are not event
    # files: they do not change the data version); it joins the picker without a reload
    late = logdir / "late" / "host_7.777.pt.trace.json"
    late.parent.mkdir(parents=True)
    late.write_text(json.dumps({"traceEvents": [
        {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "pid": 1, "tid": 1, "ts": 1.0, "dur": 2.0}]}))
    page.click("#profile-trace")
    expect(page.get_by_text("late · host_7", exact=False)).to_be_visible(timeout=30_000)
