"""Export and read_scalars on real event files (torch's and our SummaryWriter), checked value for value."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from vizboard.export import add_export_arguments, export_scalars, read_scalars, run_export

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000.0
# step -> value: the non-finite points, and floats whose text form is easy to get wrong
SPECIAL = {3: math.nan, 4: math.inf, 5: -math.inf, 6: -0.0, 7: 3.4028234663852886e38, 8: 1.1754943508222875e-38,
           9: 100.0}

Expected = dict[tuple[str, str], list[tuple[int, float, float]]]


def _values(seed: int, n: int) -> list[float]:
    rng = np.random.default_rng(seed)
    vals = (rng.normal(0, 1, n) * 10.0 ** rng.integers(-6, 6, n)).tolist()
    for step, v in SPECIAL.items():
        vals[step] = v
    return vals


def _f32(v: float) -> float:
    return float(np.float32(v))  # simple_value is float32: what a reader must give back


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Expected]:
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from logger import SummaryWriter as OurWriter

    root = tmp_path_factory.mktemp("logs")
    expected: Expected = {}

    def log(writer: object, run: str, tag: str, seed: int, n: int = 40, **kw: object) -> None:
        rows = expected.setdefault((run, tag), [])
        for step, v in enumerate(_values(seed, n)):
            wall = T0 + seed * 1000 + step * 0.25 + 1e-6 * (step % 7)
            writer.add_scalar(tag, v, step, walltime=wall, **kw)  # type: ignore[attr-defined]
            rows.append((step, wall, _f32(v)))

    tw = TorchWriter(str(root / "a"))
    log(tw, "a", "loss", 1)
    log(tw, "a", "acc/top1", 2, n=25)
    log(tw, "a", "tensor_style", 3, new_style=True)
    tw.close()
    ow = OurWriter(str(root / "b" / "sub"))
    log(ow, "b/sub", "loss", 4, n=300)
    log(ow, "b/sub", "lr", 5)
    ow.close()
    ow = OurWriter(str(root / 'c,"odd" run'))  # CSV quoting of names
    log(ow, 'c,"odd" run', "x, y", 6, n=10)
    ow.close()
    return root, expected


def _expected_rows(expected: Expected, keep=lambda run, tag: True) -> list[tuple[str, str, int, float, float]]:
    return [(r, t, s, w, v) for (r, t), rows in sorted(expected.items()) if keep(r, t) for s, w, v in rows]


def _same(got: list[tuple], want: list[tuple]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g[:3] == w[:3]
        assert g[3] == w[3]  # wall_time exact
        assert g[4] == w[4] or (math.isnan(g[4]) and math.isnan(w[4])), (g, w)


def test_read_scalars_columns_dtypes_and_values(logdir: tuple[Path, Expected]) -> None:
    root, expected = logdir
    df = read_scalars(root)
    assert list(df.columns) == ["run", "tag", "step", "wall_time", "value"]
    assert pd.api.types.is_string_dtype(df["run"]) and pd.api.types.is_string_dtype(df["tag"])
    assert (df["step"].dtype, df["wall_time"].dtype, df["value"].dtype) == (np.int64, np.float64, np.float64)
    _same(list(df.itertuples(index=False, name=None)), _expected_rows(expected))
    assert df.equals(df.sort_values(["run", "tag", "step"], kind="stable").reset_index(drop=True))


def test_read_scalars_agrees_with_tensorboards_event_accumulator(logdir: tuple[Path, Expected]) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    root, _ = logdir
    df = read_scalars(root, runs=["a"])
    acc = EventAccumulator(str(root / "a"), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    for tag in acc.Tags()["scalars"]:
        ours = df[df["tag"] == tag]
        events = acc.Scalars(tag)
        assert ours["step"].tolist() == [e.step for e in events]
        assert ours["wall_time"].tolist() == [e.wall_time for e in events]
        np.testing.assert_array_equal(ours["value"].to_numpy(), [e.value for e in events])


def test_filters(logdir: tuple[Path, Expected]) -> None:
    root, expected = logdir
    pairs = lambda df: sorted(set(zip(df["run"], df["tag"])))  # noqa: E731
    assert pairs(read_scalars(root, runs="^b/")) == [("b/sub", "loss"), ("b/sub", "lr")]
    assert pairs(read_scalars(root, tags="loss")) == [("a", "loss"), ("b/sub", "loss")]
    assert pairs(read_scalars(root, runs=["a", "nope"], tags=["acc/top1"])) == [("a", "acc/top1")]
    assert pairs(read_scalars(root, runs="ac")) == []
    empty = read_scalars(root, tags=[])
    assert len(empty) == 0 and list(empty.columns) == ["run", "tag", "step", "wall_time", "value"]
    assert empty["step"].dtype == np.int64
    with pytest.raises(ValueError, match="tags is not a valid regular expression"):
        read_scalars(root, tags="(")


def test_filters_run_in_linear_time(logdir: tuple[Path, Expected], tmp_path: Path) -> None:
    """Issue 16: a backtracking pattern must not stall export (Python's re needs ~2**24 steps here)."""
    import threading

    src, _ = logdir
    root = tmp_path / "logs"
    long_name = root / ("r" * 24)
    long_name.mkdir(parents=True)
    for f in (src / "a").iterdir():
        if f.is_file():
            (long_name / f.name).write_bytes(f.read_bytes())
    got: list[int] = []
    t = threading.Thread(target=lambda: got.append(len(read_scalars(root, runs=r"(\w|\w)*#"))), daemon=True)
    t.start()
    t.join(120)
    assert got == [0]
    with pytest.raises(ValueError, match=r"runs is not a valid regular expression.*look-around"):
        read_scalars(root, runs="a(?=b)")


def test_csv_export(logdir: tuple[Path, Expected], tmp_path: Path) -> None:
    root, expected = logdir
    out = tmp_path / "s.csv"
    rows = export_scalars(root, out, fmt="csv", progress=False)
    want = _expected_rows(expected)
    assert rows == len(want)
    with open(out, newline="", encoding="utf-8") as f:
        got = list(csv.reader(f))
    assert got[0] == ["run", "tag", "step", "wall_time", "value"]
    _same([(r, t, int(s), float(w), float(v)) for r, t, s, w, v in got[1:]], want)
    text = out.read_text()
    assert ",nan\n" in text and ",inf\n" in text and ",-inf\n" in text
    assert not [p for p in tmp_path.iterdir() if p.name != "s.csv"]  # no temp file left behind
    umask = os.umask(0o022)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # as a plain open() would create it
    back = pd.read_csv(out)
    assert back["value"].isna().sum() == sum(math.isnan(r[4]) for r in want)


def test_parquet_export(logdir: tuple[Path, Expected], tmp_path: Path) -> None:
    root, expected = logdir
    out = tmp_path / "s.parquet"
    assert export_scalars(root, out, progress=False) == len(_expected_rows(expected))  # format from suffix
    table = pq.read_table(out)
    assert [(f.name, str(f.type)) for f in table.schema] == [
        ("run", "string"), ("tag", "string"), ("step", "int64"), ("wall_time", "double"), ("value", "double")]
    d = table.to_pydict()
    _same(list(zip(d["run"], d["tag"], d["step"], d["wall_time"], d["value"])), _expected_rows(expected))


def test_json_lines_export(logdir: tuple[Path, Expected], tmp_path: Path) -> None:
    root, expected = logdir
    out = tmp_path / "s.jsonl"
    export_scalars(root, out, fmt="json", tags="loss|lr", progress=False)
    names = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

    def strict(c: str) -> None:
        raise AssertionError(f"bare {c} is not valid JSON")

    got = []
    for line in out.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line, parse_constant=strict)
        assert list(rec) == ["run", "tag", "step", "wall_time", "value"]
        v = rec["value"]
        got.append((rec["run"], rec["tag"], rec["step"], rec["wall_time"], names[v] if isinstance(v, str) else v))
    _same(got, _expected_rows(expected, lambda r, t: t in ("loss", "lr")))
    assert '"value": "NaN"' in out.read_text() and '"value": "-Infinity"' in out.read_text()
    assert len(pd.read_json(out, lines=True)) == len(got)


def _cli(*argv: str) -> subprocess.CompletedProcess[bytes]:
    code = (
        "import argparse, sys\n"
        "from vizboard.export import add_export_arguments, run_export\n"
        "p = argparse.ArgumentParser(prog='vizboard export')\n"
        "add_export_arguments(p)\n"
        "sys.exit(run_export(p.parse_args(sys.argv[1:])))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, env=env, timeout=120)


def test_cli_stdout_csv_and_parquet(logdir: tuple[Path, Expected]) -> None:
    root, expected = logdir
    res = _cli(str(root), "--runs", "^a$", "--tags", "loss")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.decode().splitlines()
    assert lines[0] == "run,tag,step,wall_time,value" and len(lines) == 1 + len(expected[("a", "loss")])
    assert res.stderr == b""  # no progress bar when stderr is not a terminal
    res = _cli(str(root), "--format", "parquet")
    assert res.returncode == 0, res.stderr
    assert pq.read_table(io.BytesIO(res.stdout)).num_rows == len(_expected_rows(expected))


def test_cli_errors(logdir: tuple[Path, Expected], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, _ = logdir
    parser = argparse.ArgumentParser(prog="vizboard export")
    add_export_arguments(parser)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cases = [
        ([str(tmp_path / "missing")], "missing' does not exist"),
        ([str(root), "-o", str(tmp_path / "no" / "dir.csv")], "does not exist"),
        ([str(root), "-o", str(blocker / "x.csv")], "is not a directory"),
        ([str(root), "--tags", "["], "tags is not a valid regular expression"),
    ]
    for argv, message in cases:
        assert run_export(parser.parse_args(argv)) == 2
        err = capsys.readouterr().err
        assert err.startswith("vizboard export: error: ") and message in err, err
    with pytest.raises(SystemExit):
        parser.parse_args([str(root), "--format", "xml"])
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_run_export_in_process(
    logdir: tuple[Path, Expected], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, expected = logdir
    parser = argparse.ArgumentParser()
    add_export_arguments(parser)
    out = tmp_path / "o.json"
    assert run_export(parser.parse_args([str(root), "-o", str(out), "--no-progress"])) == 0
    n = len(_expected_rows(expected))
    assert len(out.read_text().splitlines()) == n  # .json -> JSON Lines
    assert f"wrote {n} rows" in capsys.readouterr().err


def test_api_errors(logdir: tuple[Path, Expected], tmp_path: Path) -> None:
    root, _ = logdir
    with pytest.raises(FileNotFoundError, match="nowhere"):
        export_scalars(tmp_path / "nowhere", tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []  # the temporary output file is gone too
    with pytest.raises(ValueError, match="unknown export format 'xlsx'"):
        export_scalars(root, tmp_path / "x.csv", fmt="xlsx")
    with pytest.raises(IsADirectoryError):
        export_scalars(root, tmp_path, fmt="csv")


def test_failed_export_leaves_no_file(logdir: tuple[Path, Expected], tmp_path: Path) -> None:
    from vizboard.data import load

    root, _ = logdir
    store = load(str(root))

    class Failing:
        """Delegates to the store but fails on the second series."""

        def __init__(self) -> None:
            self.calls = 0

        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

        def scalars(self, run: str, tag: str) -> object:
            self.calls += 1
            if self.calls == 2:
                raise OSError("disk vanished")
            return store.scalars(run, tag)

    out = tmp_path / "x.csv"
    with pytest.raises(OSError, match="disk vanished"):
        export_scalars(Failing(), out, progress=False)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_public_api_is_lazy(logdir: tuple[Path, Expected]) -> None:
    root, expected = logdir
    code = (
        "import sys, vizboard\n"
        "assert vizboard.__all__ == ['read_scalars', 'load_ipython_extension', '__version__']\n"
        "heavy = ('pandas', 'dash', 'plotly', 'pyarrow')\n"
        "assert not [m for m in heavy if m in sys.modules], [m for m in heavy if m in sys.modules]\n"
        f"df = vizboard.read_scalars({str(root)!r}, runs='^a$')\n"
        "assert 'pandas' in sys.modules and 'dash' not in sys.modules and 'plotly' not in sys.modules\n"
        "print(len(df), vizboard.__version__)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    n = sum(len(v) for (r, _t), v in expected.items() if r == "a")
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert res.stdout.split() == [str(n), version]


def test_export_to_streams(logdir: tuple[Path, Expected]) -> None:
    root, expected = logdir
    text = io.StringIO()
    n = export_scalars(root, text, fmt="csv", runs=["a"], progress=False)
    assert n == len(text.getvalue().splitlines()) - 1 == sum(len(v) for (r, _), v in expected.items() if r == "a")
    raw = io.BytesIO()
    export_scalars(root, raw, fmt="parquet", progress=False)
    assert pq.read_table(io.BytesIO(raw.getvalue())).num_rows == len(_expected_rows(expected))
    with pytest.raises(ValueError, match="binary stream"):
        export_scalars(root, io.StringIO(), fmt="parquet")


def test_progress_bars_on_a_terminal(logdir: tuple[Path, Expected], tmp_path: Path) -> None:
    """On a terminal, stderr shows the load (bytes) and export (points) bars; the file is complete."""
    import fcntl
    import pty
    import struct
    import termios

    root, expected = logdir
    out = tmp_path / "tty.csv"
    code = (
        "import argparse, sys\n"
        "from vizboard.export import add_export_arguments, run_export\n"
        "p = argparse.ArgumentParser(); add_export_arguments(p)\n"
        "sys.exit(run_export(p.parse_args(sys.argv[1:])))\n"
    )
    pid, fd = pty.fork()
    if pid == 0:  # child: a terminal 100 columns wide (tqdm draws nothing at width 0)
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
            os.environ["PYTHONPATH"] = str(ROOT)
            os.execv(sys.executable, [sys.executable, "-c", code, str(root), "-o", str(out)])
        finally:
            os._exit(127)
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 0, screen
    n = len(_expected_rows(expected))
    assert "load:" in screen and "export:" in screen and f"wrote {n} rows" in screen
    assert len(out.read_text().splitlines()) == n + 1
