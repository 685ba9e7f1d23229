"""Process-level behaviour: SIGKILL after flush(), exit without close(), import cost, the init/log/finish API."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from logger import records
from logger._pb import event_pb2

REPO = Path(__file__).resolve().parents[2]


def _scalars(logdir: str) -> list[tuple[str, int, float]]:
    out = []
    for path in sorted(glob.glob(os.path.join(logdir, "**", "events.out.tfevents.*"), recursive=True)):
        with open(path, "rb") as f:
            res = records.scan(f.read())
        for r in res.records:
            e = event_pb2.Event.FromString(r.payload)
            out += [(v.tag, e.step, v.simple_value) for v in e.summary.value if v.HasField("simple_value")]
    return out


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_flushed_points_survive_sigkill(tmp_path) -> None:
    proc = _run(
        """
        import os, signal, sys
        from logger import SummaryWriter
        w = SummaryWriter(sys.argv[1], flush_secs=3600)
        for i in range(1000):
            w.add_scalar("x", float(i), i)
        w.flush()
        print("flushed", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """,
        str(tmp_path),
    )
    assert proc.returncode == -signal.SIGKILL
    assert "flushed" in proc.stdout
    assert [s for _, s, _ in _scalars(str(tmp_path))] == list(range(1000))


def test_exit_without_close_writes_everything(tmp_path) -> None:
    proc = _run(
        """
        import sys, logger
        w = logger.SummaryWriter(sys.argv[1], flush_secs=3600)
        for i in range(300):
            w.add_scalar("x", float(i), i)
        logger.init(sys.argv[1], "api", lr=0.1)
        logger.log({"y": 1.0})
        """,
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    got = _scalars(str(tmp_path))
    assert [s for t, s, _ in got if t == "x"] == list(range(300))
    assert ("y", 0, 1.0) in got


def test_import_is_light() -> None:
    proc = _run(
        """
        import sys, logger
        from logger import SummaryWriter
        heavy = [m for m in ("torch", "PIL", "tensorboard", "matplotlib") if m in sys.modules]
        print(heavy)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_init_log_finish(tmp_path) -> None:
    import logger

    logger.finish()
    with pytest.raises(RuntimeError, match=r"logger\.init\(\)"):
        logger.log({"a": 1.0})
    w = logger.init(str(tmp_path), "run1", system_metrics=False, lr=0.01, opt="adam")
    assert w.get_logdir() == os.path.join(str(tmp_path), "run1")
    logger.log({"loss": 1.0, "acc": 0.5})
    logger.log({"loss": 0.9})
    logger.log({"loss": 0.5}, step=10)
    logger.log({"loss": 0.4})
    with pytest.raises(TypeError, match="scalar_value"):
        logger.log({"loss": "bad"})
    logger.finish()
    logger.finish()
    got = _scalars(str(tmp_path / "run1"))
    assert [(t, s) for t, s, _ in got if t == "loss"] == [("loss", 0), ("loss", 1), ("loss", 10), ("loss", 11)]
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.plugins.hparams import plugin_data_pb2

    acc = ea.EventAccumulator(str(tmp_path / "run1"))
    acc.Reload()
    start = plugin_data_pb2.HParamsPluginData.FromString(acc.SummaryMetadata("_hparams_/session_start_info").plugin_data.content)
    assert start.session_start_info.hparams["opt"].string_value == "adam"
    exp = plugin_data_pb2.HParamsPluginData.FromString(acc.SummaryMetadata("_hparams_/experiment").plugin_data.content)
    assert sorted(m.name.tag for m in exp.experiment.metric_infos) == ["acc", "loss"]


@pytest.mark.parametrize("ending,status", [("pass", 1), ("raise SystemError('boom')", 2)])
def test_hparams_session_end_written_at_exit(tmp_path, ending, status) -> None:
    _run(
        f"""
        import sys, logger
        w = logger.SummaryWriter(sys.argv[1])
        w.add_hparams({{"lr": 0.1}}, {{}})
        w.add_scalar("loss", 1.0, 0)
        {ending}
        """,
        str(tmp_path),
    )
    from tensorboard.backend.event_processing import event_accumulator as ea
    from tensorboard.plugins.hparams import plugin_data_pb2

    acc = ea.EventAccumulator(str(tmp_path))
    acc.Reload()

    def content(tag: str):
        return plugin_data_pb2.HParamsPluginData.FromString(acc.SummaryMetadata(tag).plugin_data.content)

    end = content("_hparams_/session_end_info").session_end_info
    assert end.status == status and end.end_time_secs > 0
    assert [m.name.tag for m in content("_hparams_/experiment").experiment.metric_infos] == ["loss"]
