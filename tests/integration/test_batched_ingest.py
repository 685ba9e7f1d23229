"""Small files read in batches (one framing and one vectorised decode for many runs) give exactly the
Store that reading them one by one gives: values, series kinds, restarts and reported damage."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

from logger._pb import event_pb2
from logger.records import frame
from vizboard.data import Store
from vizboard.data import ingest as ingest_mod
from vizboard.data.ingest import Ingestor
from vizboard.data.models import Kind


def _ev(step: int, **kw: object) -> event_pb2.Event:
    return event_pb2.Event(wall_time=1.7e9 + step, step=step, **kw)


def _scalar(step: int, tag: str, value: float, *, tensor: bool = False, meta: bool = False) -> bytes:
    e = _ev(step)
    v = e.summary.value.add(tag=tag)
    if tensor:
        v.tensor.dtype = 1  # DT_FLOAT
        v.tensor.float_val.append(value)
    else:
        v.simple_value = value
    if meta:
        v.metadata.plugin_data.plugin_name = "scalars"
    return frame(e.SerializeToString())


def _text(step: int, tag: str) -> bytes:
    e = _ev(step)
    v = e.summary.value.add(tag=tag)
    v.metadata.plugin_data.plugin_name = "text"
    v.tensor.dtype = 7  # DT_STRING
    v.tensor.string_val.append(f"note {step}".encode())
    return frame(e.SerializeToString())


def _header() -> bytes:
    return frame(_ev(0, file_version="brain.Event:2").SerializeToString())


def _write_logdir(root: str, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(60):
        run = os.path.join(root, f"group{i % 3}", f"run{i:02d}")
        os.makedirs(run)
        shape = rng.choice(["plain", "meta", "tensor_no_meta", "text", "damaged", "torn", "restart", "empty"])
        recs = [_header()]
        n = rng.randint(1, 40)
        for s in range(n):
            if shape == "meta":
                recs.append(_scalar(s, "loss", s * 0.5, tensor=True, meta=s == 0))
            elif shape == "tensor_no_meta":  # same tag name as elsewhere, but not a scalar series here
                recs.append(_scalar(s, "loss", s * 0.25, tensor=True))
            elif shape == "text":
                recs.append(_text(s, "notes"))
            else:
                recs.append(_scalar(s, "loss", rng.random()))
            if rng.random() < 0.5:
                recs.append(_scalar(s, f"acc/{i % 4}", rng.random()))
        data = b"".join(recs)
        if shape == "damaged" and len(recs) > 3:
            cut = len(b"".join(recs[:2])) + 9
            data = data[:cut] + bytes([data[cut] ^ 0xFF]) + data[cut + 1:]
        if shape == "torn":
            data = data[: len(data) - rng.randint(1, 12)]
        if shape == "empty":
            data = b""
        with open(os.path.join(run, "events.out.tfevents.1700000000.h.1.0"), "wb") as f:
            f.write(data)
        if shape == "restart":
            with open(os.path.join(run, "events.out.tfevents.1700000500.h.1.0"), "wb") as f:
                f.write(_header() + b"".join(_scalar(s, "loss", -s) for s in range(n // 2, n // 2 + 5)))


def _snapshot(store: Store) -> dict[str, object]:
    out: dict[str, object] = {"runs": [(r.name, r.num_files, r.num_problems) for r in store.runs()]}
    for t in store.tags():
        key = f"{t.run}|{t.tag}"
        if t.kind is Kind.SCALARS:
            s = store.scalars(t.run, t.tag)
            assert s is not None
            out[key] = (t.kind, s.step.tolist(), s.wall_time.tolist(), s.value.tolist())
        elif t.kind is Kind.TEXT:
            out[key] = (t.kind, [(e.step, e.data.tolist() if isinstance(e.data, np.ndarray) else e.data)
                                 for e in store.text(t.run, t.tag)])
        else:
            out[key] = (t.kind, t.num_points)
    out["problems"] = sorted((p.run, os.path.basename(p.file), p.offset, p.length, p.kind) for p in store.problems())
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batched_reads_equal_file_by_file_reads(tmp_path, monkeypatch, seed: int) -> None:
    _write_logdir(str(tmp_path), seed)
    batches: list[int] = []
    real = ingest_mod.poll_many

    def spy(fs, tails):
        got = real(fs, tails)
        if got is not None:
            batches.append(len(tails))
        return got

    monkeypatch.setattr(ingest_mod, "poll_many", spy)
    batched = Store(str(tmp_path))
    Ingestor(batched, watch=False).run_once()
    assert sum(batches) >= 15  # the batched path really ran (bad files split their batches)
    one_by_one = Store(str(tmp_path))
    ing = Ingestor(one_by_one, watch=False)
    ing._small_bytes = 0  # every file read alone
    ing.run_once()
    a, b = _snapshot(batched), _snapshot(one_by_one)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k], k
    assert any(p[4] != "unreadable" for p in a["problems"]) or seed  # damage is reported, not hidden


def test_a_torn_file_in_a_batch_does_not_hold_back_the_others(tmp_path) -> None:
    for i in range(20):
        d = tmp_path / f"run{i:02d}"
        d.mkdir()
        data = _header() + b"".join(_scalar(s, "loss", s) for s in range(10))
        (d / "events.out.tfevents.1.h").write_bytes(data[:-3] if i == 7 else data)
    store = Store(str(tmp_path))
    Ingestor(store, watch=False).run_once()
    for i in range(20):
        s = store.scalars(f"run{i:02d}", "loss")
        assert s is not None and s.step.tolist() == list(range(9 if i == 7 else 10))
