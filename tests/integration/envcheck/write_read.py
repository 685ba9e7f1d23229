"""Run inside a throwaway venv: the logger writes one of everything it can without torch, then reads it back.

Prints ``OK protobuf <version>`` on success; any mismatch raises. Used by
tests/integration/test_logger_envs.py (protobuf floor/newest, next to TensorFlow).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from google.protobuf import __version__ as pb_version

from logger import SummaryWriter
from logger._pb import event_pb2, graph_pb2, hparams_pb2, plugins_pb2, projector_pb2  # noqa: F401 - every module loads
from logger.records import scan


def main() -> int:
    logdir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    with SummaryWriter(logdir) as w:
        for i in range(3):
            w.add_scalar("loss", 1.0 / (i + 1), i)
        w.add_scalar("acc", 0.5, 3, new_style=True)
        w.add_histogram("w", np.arange(100.0), 1)
        w.add_image("img", np.zeros((3, 4, 5), dtype=np.uint8), 1)
        w.add_text("note", "hello", 1)
        w.add_pr_curve("pr", np.array([0, 1, 1]), np.array([0.2, 0.7, 0.9]), 1)
        w.add_hparams({"lr": 0.1, "opt": "sgd"}, {"hp/metric": 1.0})
    evs = [event_pb2.Event.FromString(r.payload) for f in sorted(logdir.glob("*tfevents*"))
           for r in scan(f.read_bytes(), final=True).records]
    assert evs[0].file_version == "brain.Event:2", evs[0]
    vals = {(e.step, v.tag): v for e in evs for v in e.summary.value}
    assert [round(vals[(i, "loss")].simple_value, 6) for i in range(3)] == [1.0, 0.5, 0.333333]
    assert vals[(3, "acc")].tensor.float_val == [0.5]
    assert vals[(1, "w")].histo.num == 100
    assert vals[(1, "img")].image.width == 5
    assert vals[(1, "note/text_summary")].tensor.string_val == [b"hello"]
    pr = vals[(1, "pr")]
    assert plugins_pb2.PrCurvePluginData.FromString(pr.metadata.plugin_data.content).num_thresholds == 127
    hp = hparams_pb2.HParamsPluginData.FromString(vals[(0, "_hparams_/session_start_info")].metadata.plugin_data.content)
    assert hp.session_start_info.hparams["opt"].string_value == "sgd"
    print(f"OK protobuf {pb_version}: {len(evs)} events read back from {logdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
