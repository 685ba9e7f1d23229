"""Hostile-input probes of the reader (issue 16): memory for a huge claimed record, live delay beside junk.

- ``claim``: an event file whose first header claims a 1 GiB record (valid header CRC) in a
  sparse file that really is that long (zeros), followed by intact records; figures: peak RSS
  above the baseline (``ru_maxrss``) and whether every intact record was read.
- ``junk``: a 2 GiB file named like an event file (zeros: sparse; or random bytes) in one run
  while another run's writer appends one record every 0.2 s; figure: flush -> point visible
  in the Store (median and max of 15), with the ingest thread running as in ``vizboard serve``.

Each probe runs in a fresh subprocess. ``python -m bench.faults [--quick]`` prints the figures
(``--quick``: 256 MiB instead of 1-2 GiB). Not yet part of ``python -m bench``'s report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

__all__ = ["run"]

_REPO = Path(__file__).resolve().parent.parent

_PROBE = r"""
import json, os, resource, shutil, struct, sys, tempfile, time
sys.path.insert(0, sys.argv[3])
from logger._pb import event_pb2
from logger.records import frame, masked_crc32c
from vizboard.data import Ingestor, Store

def ev(step):
    e = event_pb2.Event(wall_time=time.time(), step=step)
    e.summary.value.add(tag="x", simple_value=float(step))
    return frame(e.SerializeToString())

mode, size = sys.argv[1], int(sys.argv[2])
d = tempfile.mkdtemp(prefix="bench-hostile-")
try:
    os.makedirs(f"{d}/hostile"); os.makedirs(f"{d}/live")
    bad = f"{d}/hostile/events.out.tfevents.1.h"
    if mode == "claim":
        claim = struct.pack("<Q", size)
        with open(bad, "wb") as f:
            f.write(claim + struct.pack("<I", masked_crc32c(claim)) + b"".join(ev(i) for i in range(10)))
            f.truncate(size + 4096)
            f.seek(0, 2)
            f.write(ev(10))
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        t0 = time.perf_counter()
        store = Store(d)
        Ingestor(store, watch=False).run_once()
        s = store.scalars("hostile", "x")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({"rss_above_baseline": peak - base, "seconds": time.perf_counter() - t0,
                          "intact_read": s is not None and s.step.tolist() == list(range(11)),
                          "problems": len(store.problems())}))
    else:
        with open(bad, "wb") as f:
            if mode == "zeros":
                f.truncate(size)
            else:
                blk = os.urandom(1 << 20)
                for i in range(size >> 20):
                    f.write(blk[::-1] if i % 2 else blk)
        live = f"{d}/live/events.out.tfevents.1.l"
        open(live, "wb").close()
        store = Store(d)
        delays = []
        with Ingestor(store):
            time.sleep(0.5)
            for i in range(15):
                with open(live, "ab") as f:
                    f.write(ev(i))
                t0 = time.perf_counter()
                while True:
                    s = store.scalars("live", "x")
                    if s is not None and len(s) and int(s.step[-1]) == i:
                        break
                    time.sleep(0.002)
                delays.append(time.perf_counter() - t0)
                time.sleep(0.2)
            st = store.status()
        delays.sort()
        print(json.dumps({"median": delays[len(delays) // 2], "max": delays[-1], "junk_read": st.bytes_read}))
finally:
    shutil.rmtree(d, ignore_errors=True)
"""


def _probe(mode: str, size: int) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, mode, str(size), str(_REPO)], capture_output=True,
                          text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} probe failed: {proc.stderr.strip().splitlines()[-1:]}")
    out: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def run(quick: bool = False) -> list[str]:
    """Run every probe; return one line of figures per probe."""
    claim = 256 << 20 if quick else 1 << 30
    junk = 256 << 20 if quick else 2 << 30
    lines = []
    c = _probe("claim", claim)
    lines.append(f"header claiming {claim >> 20} MiB (file that long): peak RSS +{c['rss_above_baseline'] / 2**20:.0f} "
                 f"MiB above baseline (target <= 64 MiB), intact records all read: {bool(c['intact_read'])}, "
                 f"{c['problems']:.0f} problems, {c['seconds']:.1f} s")
    for kind in ("zeros", "random"):
        j = _probe(kind, junk)
        lines.append(f"{junk >> 20} MiB of {kind} beside a live run: flush -> visible median {j['median'] * 1000:.0f} ms, "
                     f"max {j['max'] * 1000:.0f} ms (target <= 1 s); junk read meanwhile: "
                     f"{j['junk_read'] / 2**20:.0f} MiB")
    return lines


if __name__ == "__main__":
    for line in run(quick="--quick" in sys.argv):
        print(line)
