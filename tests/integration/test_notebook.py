"""vizboard in notebooks: a real notebook run headlessly (nbclient + ipykernel), and show()/list()/stop() outside Jupyter."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _logdir(root: Path) -> Path:
    from logger import SummaryWriter

    with SummaryWriter(str(root / "run")) as w:
        for step in range(3):
            w.add_scalar("loss", 1.0 / (step + 1), step)
    return root


def test_notebook_loads_the_extension_and_shows_the_dashboard_inline(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    logdir = _logdir(tmp_path / "logs")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext vizboard"),
        nbformat.v4.new_code_cell(f"%vizboard {logdir} --height 500"),
        nbformat.v4.new_code_cell(
            "import json, urllib.request, vizboard.notebook as vn\n"
            "(info,) = vn.list()\n"
            "with urllib.request.urlopen(info.url + 'api/runs', timeout=30) as r:\n"
            "    print('STATUS', r.status, json.dumps([x['name'] for x in json.load(r)]))\n"
            "again = vn.show(r'%s')\n"
            "print('REUSED', again.port == info.port)" % logdir),
        nbformat.v4.new_code_cell("print('STOPPED', vn.stop(), vn.list())"),
    ]
    env_path = os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env_path  # the kernel subprocess imports vizboard from this checkout
    try:
        client = NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old

    shown = nb.cells[1].outputs
    text = "".join(o.get("text", "") for o in shown if o.output_type == "stream")
    assert "vizboard: serving" in text and "http://127.0.0.1:" in text
    htmls = [o["data"]["text/html"] for o in shown if o.output_type == "display_data" and "text/html" in o["data"]]
    assert len(htmls) == 1 and "<iframe" in htmls[0] and "height:500px" in htmls[0]
    url = text.split(" at ", 1)[1].split()[0]
    assert f'src="{url}"' in htmls[0]
    out3 = "".join(o.get("text", "") for o in nb.cells[2].outputs if o.output_type == "stream")
    assert "STATUS 200" in out3 and json.dumps(["run"]) in out3, out3
    assert "REUSED True" in out3
    out4 = "".join(o.get("text", "") for o in nb.cells[3].outputs if o.output_type == "stream")
    assert "STOPPED 1 []" in out4
    with pytest.raises(OSError):  # the kernel is gone and its server was stopped
        urllib.request.urlopen(url + "api/version", timeout=5)


def test_show_outside_jupyter_prints_the_link_and_stop_stops(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import vizboard.notebook as vn

    logdir = _logdir(tmp_path)
    try:
        info = vn.show(logdir, height=400)
        out = capsys.readouterr().out
        assert info.url in out and "<iframe" not in out
        assert vn.list() == [info]
        with urllib.request.urlopen(info.url + "api/version", timeout=30) as r:
            assert r.status == 200
        assert vn.show(str(logdir)).port == info.port  # reused
        assert vn.stop(info.port) == 1 and vn.list() == []
        with pytest.raises(OSError):
            urllib.request.urlopen(info.url + "api/version", timeout=5)
    finally:
        vn.stop()


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    import vizboard.notebook as vn
    from vizboard.server import ServeError

    with pytest.raises(ValueError, match="height"):
        vn.show(tmp_path, height=10)
    with pytest.raises(ServeError, match="does not exist"):
        vn.show(tmp_path / "missing")
    assert vn.list() == []


def test_importing_vizboard_does_not_import_dash() -> None:
    import subprocess
    import sys

    code = "import sys, vizboard; assert callable(vizboard.load_ipython_extension); print('dash' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert out.stdout.strip() == "False", out.stderr
