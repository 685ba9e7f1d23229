"""The demo's quick sweep (real torch training, three processes) writes every kind of data vizboard shows.

One ``python demo/train.py --quick`` run per module; its logdir is read back with
``vizboard.data.load`` and ``vizboard.data.profile`` and checked kind by kind.
"""

from __future__ import annotations

import io
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from vizboard.data import load  # noqa: E402
from vizboard.data.models import Kind  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RUNS = {f"lr_{lr:g}_seed{k}": lr for lr in (0.01, 0.003, 0.001) for k in (0, 1)}
CLASSES = ("circle", "square", "triangle", "cross", "diamond", "ring")


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "logs"
    proc = subprocess.run([sys.executable, str(REPO / "demo" / "train.py"), "--quick", "--logdir", str(out)],
                          cwd=tmp_path_factory.mktemp("cwd"), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "demo: done" in proc.stdout
    return out


@pytest.fixture(scope="module")
def store(logdir: Path):  # noqa: ANN201
    return load(str(logdir))


def _tags(store, run: str, kind: Kind) -> set[str]:  # noqa: ANN001
    return {t.tag for t in store.tags(kind, [run])}


def test_one_run_per_learning_rate(store) -> None:  # noqa: ANN001
    assert {r.name for r in store.runs()} == set(RUNS)
    for run in RUNS:
        assert not store.problems(run)


@pytest.mark.parametrize("run", sorted(RUNS))
def test_scalars(store, run: str) -> None:  # noqa: ANN001
    tags = _tags(store, run, Kind.SCALARS)
    expected = {"loss/train", "loss/val", "accuracy/train", "accuracy/val", "train/loss", "train/accuracy",
                "val/loss", "val/accuracy", "train/lr",
                "time/step", "time/data", "time/forward", "time/backward", "time/optimizer", "time/samples_per_sec",
                "system/cpu_percent", "system/process_rss_mb"}
    assert expected <= tags, expected - tags
    charts = {t.tag: t.chart for t in store.tags(Kind.SCALARS, [run])}
    assert charts["loss/train"] == charts["loss/val"] == "loss"
    assert charts["accuracy/train"] == charts["accuracy/val"] == "accuracy"
    # 2 epochs x 8 steps, train metrics every 2 steps; validation at step 0, every 4 steps and each epoch end.
    assert list(store.scalars(run, "train/loss").step) == [2, 4, 6, 8, 10, 12, 14, 16]
    assert list(store.scalars(run, "val/accuracy").step) == [0, 4, 8, 12, 16]  # step 0: from add_hparams
    assert list(store.scalars(run, "loss/val").step) == [0, 4, 8, 12, 16]
    acc = store.scalars(run, "accuracy/train").value
    assert np.all((acc >= 0) & (acc <= 1))
    lr = store.scalars(run, "train/lr").value
    assert np.all(lr > 0) and lr.max() <= RUNS[run] * (1 + 1e-6)
    assert lr[-1] < lr.max()  # the cosine schedule decays
    assert len(store.scalars(run, "time/forward").step) == 16
    assert np.all(store.scalars(run, "time/step").value > 0)


@pytest.mark.parametrize("run", sorted(RUNS))
def test_histograms(store, run: str) -> None:  # noqa: ANN001
    tags = _tags(store, run, Kind.HISTOGRAMS)
    assert "weights/features.0.0.weight" in tags and "gradients/features.0.0.weight" in tags
    assert "weights/head.3.weight" in tags
    series = store.histograms(run, "weights/features.0.0.weight")
    assert list(series.step) == [0, 4, 8, 12, 16]
    assert np.all(series.num == 8 * 3 * 3 * 3)


@pytest.mark.parametrize("run", sorted(RUNS))
def test_images(store, run: str) -> None:  # noqa: ANN001
    from PIL import Image

    assert {"samples/inputs", "samples/predictions", "confusion_matrix"} <= _tags(store, run, Kind.IMAGES)
    steps = {"samples/inputs": [0], "samples/predictions": [0, 8, 16], "confusion_matrix": [8, 16]}
    for tag in ("samples/inputs", "samples/predictions", "confusion_matrix"):
        refs = store.blobs(run, tag)
        assert [r.step for r in refs] == steps[tag]
        img = Image.open(io.BytesIO(store.read_blob(refs[-1])))
        assert img.size == (refs[-1].width, refs[-1].height) and img.width > 64
        assert np.asarray(img.convert("L")).std() > 10  # a picture, not a blank
    # The confusion matrix is a white canvas with shaded cells.
    cm = np.asarray(Image.open(io.BytesIO(store.read_blob(store.blobs(run, "confusion_matrix")[-1]))).convert("RGB"))
    assert (cm == 255).all(axis=2).mean() > 0.1


@pytest.mark.parametrize("run", sorted(RUNS))
def test_audio(store, run: str) -> None:  # noqa: ANN001
    assert "sonified/val_accuracy" in _tags(store, run, Kind.AUDIO)
    refs = store.blobs(run, "sonified/val_accuracy")
    assert [r.step for r in refs] == [8, 16]
    with wave.open(io.BytesIO(store.read_blob(refs[0]))) as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1
        assert w.getnframes() == int(0.6 * 16000)


@pytest.mark.parametrize("run", sorted(RUNS))
def test_text(store, run: str) -> None:  # noqa: ANN001
    tags = _tags(store, run, Kind.TEXT)
    assert {"config", "notes"} <= {t.split("/")[0] for t in tags}
    config_tag = next(t for t in tags if t.startswith("config"))
    config = str(store.text(run, config_tag)[0].data)
    assert "| learning rate |" in config and f"{RUNS[run]:g}" in config
    notes_tag = next(t for t in tags if t.startswith("notes"))
    notes = [str(e.data) for e in store.text(run, notes_tag)]
    assert len(notes) == 2 and "epoch 1/2" in notes[0] and "epoch 2/2" in notes[1] and "finished" in notes[1]


@pytest.mark.parametrize("run", sorted(RUNS))
def test_pr_curves(store, run: str) -> None:  # noqa: ANN001
    assert {f"pr/{c}" for c in CLASSES} <= _tags(store, run, Kind.PR_CURVES)
    entries = store.pr_curves(run, "pr/circle")
    assert [e.step for e in entries] == [8, 16]
    tp, fp, tn, fn = entries[-1].data[:4, 0]
    assert tp + fp + tn + fn == 128  # every validation image counted at threshold 0


@pytest.mark.parametrize("run", sorted(RUNS))
def test_graph(store, run: str) -> None:  # noqa: ANN001
    graph = store.graph(run)
    assert graph is not None and graph.graph_def is not None and graph.module_tree is not None
    assert len(store.read_blob(graph.graph_def)) > 1000
    text = repr(graph.module_tree)
    assert "features" in text and "Conv2d" in text and "Linear" in text


def test_hparams_sessions(store) -> None:  # noqa: ANN001
    hp = store.hparams()
    sessions = {s.run: s for s in hp.sessions}
    assert set(sessions) == set(RUNS)
    for run, lr in RUNS.items():
        s = sessions[run]
        assert s.hparams["lr"] == pytest.approx(lr)
        assert s.hparams["optimizer"] == "AdamW"
        assert s.hparams["seed"] == float(run[-1])
        assert 0 <= s.metrics["val/accuracy"] <= 1
        assert s.metrics["val/accuracy"] == pytest.approx(float(store.scalars(run, "val/accuracy").value[-1]))
        assert s.status.lower() == "success"
    assert {"val/accuracy", "val/loss"} <= set(hp.metric_tags)
    assert "lr" in hp.hparam_names


def test_seeds_group_by_learning_rate(store) -> None:  # noqa: ANN001
    from vizboard.data.groups import aggregate_groups, group_runs

    groups = group_runs(store, sorted(RUNS), "regex", r"(.*)_seed\d+")
    assert groups == {f"lr_{lr:g}": (f"lr_{lr:g}_seed0", f"lr_{lr:g}_seed1") for lr in (0.001, 0.003, 0.01)}
    assert group_runs(store, sorted(RUNS), "hparam", "lr") == {
        "0.001": ("lr_0.001_seed0", "lr_0.001_seed1"), "0.003": ("lr_0.003_seed0", "lr_0.003_seed1"),
        "0.01": ("lr_0.01_seed0", "lr_0.01_seed1")}
    seed0, seed1 = (store.scalars(f"lr_0.01_seed{k}", "train/loss").value for k in (0, 1))
    assert not np.array_equal(seed0, seed1)  # different seeds train differently
    for agg in aggregate_groups(store, groups, "train/loss"):
        assert list(agg.count) == [2] * len(agg) and bool(np.all(agg.upper > agg.lower))


def test_profiler_traces(logdir: Path) -> None:
    from vizboard.data.profile import find_traces, load_trace

    traces = find_traces(str(logdir))
    assert {t.run for t in traces} == set(RUNS)
    for t in traces:
        assert Path(t.path).parent.name == "profile" and Path(t.path).parent.parent.name == "plugins"
        parsed = load_trace(str(logdir), t)
        assert len(parsed.steps.step) == 3  # schedule(wait=1, warmup=1, active=3)
        assert len(parsed.operators) > 10
        assert np.all(parsed.steps.backward_us > 0) and np.all(parsed.steps.data_us > 0)


def test_vizboard_demo_flags_match_the_sweep() -> None:
    import argparse

    from demo.train import build_parser, config_from_args, sweep_lrs
    from vizboard.demo import MAX_RUNS

    assert len(set(sweep_lrs(MAX_RUNS))) == MAX_RUNS
    with pytest.raises(ValueError, match="--runs"):
        config_from_args(build_parser().parse_args(["--runs", str(MAX_RUNS + 1)]))
    demo_flags = argparse.ArgumentParser()
    from vizboard.demo import add_demo_arguments

    add_demo_arguments(demo_flags)
    sweep = {a.dest for a in build_parser()._actions}
    passed_on = {"logdir", "epochs", "runs", "steps_per_epoch", "device", "quick"}
    assert passed_on <= {a.dest for a in demo_flags._actions} and passed_on <= sweep
