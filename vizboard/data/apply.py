"""Decoded records into the Store: the reference path per record, accelerated for plain scalars.

:class:`ChunkApplier` turns a framed :class:`~vizboard.data.reader.Chunk` into Store
updates. The reference path parses each record with protobuf and decodes each value
(``vizboard.data.decode``); with ``accelerate=True`` (the default) records of equal
length are first offered to :func:`vizboard.data.fast_scalars.fast_scalars`, and only
the rows it does not recognise take the reference path. Both give the same Store.
Damage found while framing, unparsable payloads and undecodable values become
``DataProblem`` records.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from logger.records import DamageKind
from vizboard.data import decode as dec
from vizboard.data.fast_scalars import FastScalars, fast_scalars, header_rows, length_groups
from vizboard.data.models import BlobRef, Kind, PrCurveEntry, TextEntry
from vizboard.data.reader import Chunk
from vizboard.data.store import Store

__all__ = ["BatchPlan", "ChunkApplier", "Decoded", "ScalarGroups", "decode_batch", "plan_batch", "stores_nothing"]

Decoded = list[tuple[np.ndarray, FastScalars | None, np.ndarray | None]]
"""Per payload-length group of a chunk's records: (its rows, what :func:`fast_scalars` decoded of them or
None, a mask of the group's rows left to the protobuf path (file headers excluded) or None for none)."""

_SCALAR_META = dec.SeriesMeta(Kind.SCALARS, "scalars")
_KEY_SPAN = 1 << 32  # (part, tag id) -> part * _KEY_SPAN + tag id
_GRAPH_META = dec.SeriesMeta(Kind.GRAPHS, "graphs")
_STORED_WHATS = frozenset({"summary", "graph_def", "meta_graph_def", "tagged_run_metadata"})  # _apply_slow's cases
_RUN_METADATA_META = dec.SeriesMeta(Kind.GRAPHS, "graph_tagged_run_metadata")
_DAMAGE_DETAIL = {
    DamageKind.LENGTH_CRC: "record header damaged; skipped to the next valid record",
    DamageKind.PAYLOAD_CRC: "record damaged (payload CRC mismatch or cut short); skipped to the next valid record",
    DamageKind.UNPARSABLE: "record payload is not an Event",
}


class ChunkApplier:
    """Applies framed chunks of one Store's files to it (ingest thread only)."""

    def __init__(self, store: Store, *, accelerate: bool = True) -> None:
        self.store = store
        self.accelerate = accelerate

    def apply(self, run: str, chunk: Chunk) -> None:
        """Report ``chunk``'s damage and store every value of its records (in record order per tag)."""
        self.apply_batch(chunk, [(run, chunk, 0)])

    def apply_batch(self, whole: Chunk, parts: Sequence[tuple[str, Chunk, int]],
                    decoded: Decoded | None = None) -> None:
        """:meth:`apply` for several files framed together (:func:`vizboard.data.reader.poll_many`).

        ``parts`` = (run, the file's chunk, its first row in ``whole``), in row order, one per run:
        each file's chunk shares ``whole``'s data and holds its rows up to the next part's first
        row. The records of all files go through one vectorised decode; each (run, tag) then gets
        its values in its file's record order, exactly as one :meth:`apply` per file would.
        ``decoded``: :func:`decode_batch` of ``whole`` if it was done already (by the forked first read).
        """
        store = self.store
        for run, part, _ in parts:
            store.run(run)
            for d in part.damage:
                store.add_problem(run, part.path, d.offset, d.length, d.kind.value, _DAMAGE_DETAIL[d.kind])
        plan = plan_batch(whole, parts, decoded if decoded is not None else decode_batch(whole, self.accelerate),
                          store.series_meta)
        if plan.slow:
            firsts = [p[2] for p in parts]
            slow_scal: dict[int, dict[str, list[Any]]] = {}
            for r in np.sort(np.concatenate(plan.slow)).tolist():
                p = bisect.bisect_right(firsts, r) - 1
                run, part, first = parts[p]
                self._apply_slow(run, part, r - first, slow_scal.setdefault(p, {}), plan.metas[p])
            for p, by_tag in slow_scal.items():
                for tag, ((rs, steps, walls, values),) in by_tag.items():
                    g = plan.tag_ids.setdefault(tag, len(plan.tag_ids))
                    plan.acc.append((np.full(len(rs), p * _KEY_SPAN + g, dtype=np.int64),
                                     np.asarray(rs, np.int64) + firsts[p], np.asarray(steps, np.int64),
                                     np.asarray(walls, np.float64), np.asarray(values, np.float64)))
        self._store_groups(plan.grouped(store.series_meta))

    def apply_groups(self, runs: Sequence[str], groups: ScalarGroups | None) -> None:
        """Store scalar values grouped already (:meth:`BatchPlan.grouped` of a batch with no slow rows, done
        by the forked first read): what :meth:`apply_batch` of that batch would store; ``runs``: its files' runs."""
        for run in runs:
            self.store.run(run)
        self._store_groups(groups)

    def _store_groups(self, groups: ScalarGroups | None) -> None:
        if groups is not None:
            self.store.add_scalars_many(groups.targets, groups.bounds, groups.step, groups.wall, groups.value)

    def _apply_slow(self, run: str, chunk: Chunk, r: int, scal: dict[str, list[Any]],
                    metas: dict[str, dec.SeriesMeta]) -> None:
        store = self.store
        try:
            ev = dec.parse_event(chunk.payload(r))
        except dec.DecodeError as exc:
            store.add_problem(run, chunk.path, chunk.offset(r), chunk.record_length(r), "unparsable", str(exc))
            return
        which = ev.WhichOneof("what")
        step, wall = int(ev.step), float(ev.wall_time)
        if which == "summary":
            for value in ev.summary.value:
                tag = value.tag or value.node_name
                meta = metas.get(tag) or store.series_meta(run, tag)
                own = dec.metadata_of(value)
                if meta is None or (own is not None and not meta.from_metadata and meta.kind is Kind.OTHER):
                    meta = own or dec.inferred_metadata(value)
                    metas[tag] = meta
                try:
                    out = dec.decode_value(value, meta)
                except dec.DecodeError as exc:
                    store.add_problem(run, chunk.path, chunk.offset(r), chunk.record_length(r), "bad_value",
                                      f"tag {tag!r} at step {step}: {exc}")
                    continue
                self._store_value(run, chunk, r, tag, meta, step, wall, out, scal)
        elif which in ("graph_def", "meta_graph_def"):
            if which == "meta_graph_def" and store.series_meta(run, dec.RUN_GRAPH_TAG) is not None:
                return  # a real graph_def wins over a MetaGraphDef's graph
            ref = self._ref(run, chunk, r, dec.RUN_GRAPH_TAG, step, wall, dec.BlobItem(0, "application/x-graphdef"))
            store.add_entry(run, dec.RUN_GRAPH_TAG, _GRAPH_META, step, wall, (ref,))
        elif which == "tagged_run_metadata":
            tag = ev.tagged_run_metadata.tag
            ref = self._ref(run, chunk, r, tag, step, wall, dec.BlobItem(0, "application/x-runmetadata"))
            store.add_entry(run, tag, _RUN_METADATA_META, step, wall, (ref,))

    def _ref(self, run: str, chunk: Chunk, r: int, tag: str, step: int, wall: float, item: dec.BlobItem) -> BlobRef:
        return BlobRef(run, tag, step, wall, chunk.path, chunk.offset(r), chunk.record_length(r), item.index,
                       item.content_type, item.width, item.height, item.sample_rate, item.num_channels,
                       item.length_frames, item.label)

    def _store_value(self, run: str, chunk: Chunk, r: int, tag: str, meta: dec.SeriesMeta, step: int,
                     wall: float, out: Any, scal: dict[str, list[Any]]) -> None:
        store = self.store
        if isinstance(out, dec.ScalarValue):
            lists = scal.setdefault(tag, [([], [], [], [])])[0]
            lists[0].append(r)
            lists[1].append(step)
            lists[2].append(wall)
            lists[3].append(out.value)
        elif isinstance(out, dec.BlobValue):
            refs = tuple(self._ref(run, chunk, r, tag, step, wall, it) for it in out.items)
            store.add_entry(run, tag, meta, step, wall, refs)
        elif isinstance(out, dec.TextValue):
            store.add_entry(run, tag, meta, step, wall, TextEntry(step, wall, out.data))
        elif isinstance(out, dec.PrCurveValue):
            store.add_entry(run, tag, meta, step, wall, PrCurveEntry(step, wall, out.data))
        elif isinstance(out, dec.HParamsValue):
            store.set_hparams(run, out.which, out.message, wall)
            store.add_entry(run, tag, meta, step, wall, out)
        elif isinstance(out, dec.ModuleTreeValue):
            store.set_module_tree(run, out.tree, wall)
        elif isinstance(out, dec.LayoutValue):
            store.set_layout(run, out.charts, wall)
        else:  # histograms and other plugins
            store.add_entry(run, tag, meta, step, wall, out)


def decode_batch(whole: Chunk, accelerate: bool = True) -> Decoded:
    """The Store-free first step of :meth:`ChunkApplier.apply_batch`: ``whole``'s records grouped by payload
    length, each group's plain scalars decoded with numpy (:func:`fast_scalars`); ``accelerate=False``
    leaves every record to the protobuf path."""
    rows_all = np.arange(len(whole), dtype=np.int64)
    out: Decoded = []
    for rows, mat in (length_groups(whole, rows_all) if accelerate else [(rows_all, None)]):
        if mat is None or rows.size == 0:
            out.append((rows, None, None))
            continue
        fs = fast_scalars(mat)
        rest = None
        if fs.rows.size < rows.size:
            rest = ~header_rows(mat)  # file headers store nothing
            rest[fs.rows] = False
        out.append((rows, fs, rest))
    return out


@dataclass(frozen=True, slots=True)
class ScalarGroups:
    """A batch's scalar values per (run, tag), ready for :meth:`Store.add_scalars_many`: ``targets[i]`` =
    (run, tag, meta) owns ``step``/``wall``/``value[bounds[i]:bounds[i + 1]]``, in record order."""

    targets: list[tuple[str, str, dec.SeriesMeta]]
    bounds: np.ndarray
    step: np.ndarray
    wall: np.ndarray
    value: np.ndarray


@dataclass(slots=True)
class BatchPlan:
    """What :func:`plan_batch` found in a batch: the accepted scalar values (``acc``: key, row, step, wall,
    value arrays, key = part * 2**32 + tag id), the tag ids, per part the series metadata it settled
    (``metas``), and the rows left to the protobuf path (``slow``; they need the Store)."""

    parts: Sequence[tuple[str, Chunk, int]]
    acc: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    tag_ids: dict[str, int]
    metas: list[dict[str, dec.SeriesMeta]]
    slow: list[np.ndarray]

    def grouped(self, series_meta: Callable[[str, str], dec.SeriesMeta | None]) -> ScalarGroups | None:
        """The accepted values sorted by (part, tag), then record order; None if there are none.
        ``series_meta``: the Store's metadata of a (run, tag) (as :func:`plan_batch`'s)."""
        acc = self.acc
        if not acc:
            return None
        key, row, step, wall, value = (np.concatenate([x[k] for x in acc]) if len(acc) > 1 else acc[0][k]
                                       for k in range(5))
        order = np.lexsort((row, key))  # by (part, tag), then record order
        key, step, wall, value = key[order], step[order], wall[order], value[order]
        cuts = np.flatnonzero(key[1:] != key[:-1]) + 1
        names = list(self.tag_ids)
        bounds = np.empty(cuts.size + 2, dtype=np.int64)
        bounds[0], bounds[1:-1], bounds[-1] = 0, cuts, key.size
        targets: list[tuple[str, str, dec.SeriesMeta]] = []
        for k in key[bounds[:-1]].tolist():
            p, g = divmod(k, _KEY_SPAN)
            run, tag = self.parts[p][0], names[g]
            targets.append((run, tag, self.metas[p].get(tag) or series_meta(run, tag) or _SCALAR_META))
        return ScalarGroups(targets, bounds, step, wall, value)


def plan_batch(whole: Chunk, parts: Sequence[tuple[str, Chunk, int]], decoded: Decoded,
               series_meta: Callable[[str, str], dec.SeriesMeta | None]) -> BatchPlan:
    """The Store-free part of :meth:`ChunkApplier.apply_batch`: which decoded values are scalars of which
    (run, tag), and which rows need the protobuf path. ``series_meta`` answers what the Store knows of a
    (run, tag) already (None: nothing); the forked first read answers it for the runs it alone has read."""
    firsts_arr = np.asarray([p[2] for p in parts], dtype=np.int64)
    # Accepted scalar values of every length group, keyed by (part, tag id): sorted once at the end,
    # not once per series (numpy's sort releases the GIL: 20,000 small sorts = 20,000 GIL hand-offs
    # to request threads while a server loads).
    plan = BatchPlan(parts, [], {}, [{} for _ in parts], [])
    tag_ids, acc, slow, metas = plan.tag_ids, plan.acc, plan.slow, plan.metas
    for rows, fs, rest in decoded:
        if fs is None:
            slow.append(rows)
            continue
        if rest is not None:
            slow.append(rows[rest])
        got = rows[fs.rows]
        ntags = len(fs.tags)
        if len(parts) == 1:
            part_of = np.zeros(got.size, dtype=np.int64)
            gkeys, order, gb = _groups(fs.tag_index, ntags)
        else:
            part_of = np.searchsorted(firsts_arr, got, side="right") - 1
            gkeys, order, gb = _groups(part_of * ntags + fs.tag_index, len(parts) * ntags)
        nsorted = int(order.size)
        hm = fs.has_meta[order]
        # per group, the first of its values carrying metadata (in record order), or nsorted if none
        first_meta = (np.minimum.reduceat(np.where(hm, np.arange(nsorted), nsorted), gb[:-1]).tolist()
                      if gkeys and hm.any() else None)
        accept = np.ones(got.size, dtype=bool)
        gbl = gb.tolist()
        for i, gkey in enumerate(gkeys):
            p, t = divmod(gkey, ntags)
            run = parts[p][0]
            tag = fs.tags[t]
            meta = metas[p].get(tag) or series_meta(run, tag)
            if meta is None:
                if first_meta is not None and first_meta[i] < nsorted:
                    meta = _meta_of_record(whole, int(got[order[first_meta[i]]]), tag)
                elif t not in fs.tensor_tags:
                    meta = _SCALAR_META  # legacy simple_value: scalars by definition (§4.0)
                if meta is not None:
                    metas[p][tag] = meta
            if meta is None or meta.kind is not Kind.SCALARS:
                grp = order[gbl[i] : gbl[i + 1]]
                accept[grp] = False
                slow.append(got[grp])  # not a scalar series after all: decode one by one
        gid = np.asarray([tag_ids.setdefault(tag, len(tag_ids)) for tag in fs.tags], dtype=np.int64)
        tix, fstep, fwall, fval = fs.tag_index, fs.step, fs.wall_time, fs.value
        if not accept.all():
            got, part_of, tix = got[accept], part_of[accept], tix[accept]
            fstep, fwall, fval = fstep[accept], fwall[accept], fval[accept]
        if got.size:
            acc.append((part_of * _KEY_SPAN + gid[tix], got, fstep, fwall, fval))
    plan.slow = [r for r in slow if r.size]
    return plan


def stores_nothing(chunk: Chunk, rows: np.ndarray) -> bool:
    """True if every record of ``rows`` parses as an Event that :meth:`ChunkApplier.apply_batch`'s protobuf
    path stores nothing of (a file header, a session log): no summary, graph or run metadata."""
    for r in rows.tolist():
        try:
            ev = dec.parse_event(chunk.payload(r))
        except dec.DecodeError:
            return False  # a problem to report
        if ev.WhichOneof("what") in _STORED_WHATS:
            return False
    return True


def _meta_of_record(chunk: Chunk, r: int, tag: str) -> dec.SeriesMeta | None:
    """The series metadata carried by ``tag``'s value in record ``r`` (None if it does not parse)."""
    try:
        ev = dec.parse_event(chunk.payload(r))
    except dec.DecodeError:
        return None
    for value in ev.summary.value:
        if (value.tag or value.node_name) == tag:
            return dec.metadata_of(value) or dec.inferred_metadata(value)
    return None


def _groups(index: np.ndarray, k: int) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Group the positions of ``index`` (values in 0..k-1) by value: (values present in increasing
    order, positions sorted by value then position, bounds: group i = ``order[bounds[i]:bounds[i + 1]]``)."""
    if k <= 32:  # a few values: one comparison pass each beats a sort
        keys, pos = [], []
        for t in range(k):
            got = np.flatnonzero(index == t)
            if got.size:
                keys.append(t)
                pos.append(got)
        sizes = [g.size for g in pos]
        order = np.concatenate(pos) if pos else np.zeros(0, dtype=np.int64)
    else:
        order = np.argsort(index, kind="stable")
        srt = index[order]
        cuts = np.flatnonzero(srt[1:] != srt[:-1]) + 1
        starts = np.concatenate(([0], cuts)) if srt.size else cuts
        keys = srt[starts].tolist()
        sizes = np.diff(np.append(starts, srt.size)).tolist()
    bounds = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(sizes, out=bounds[1:])
    return keys, order, bounds
