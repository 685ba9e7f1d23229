"""Assemble the HParams view (sessions, columns, metric values) from per-run hparams records.

Rules (event-format §4.8, as TensorBoard reads them):

- every run holding ``_hparams_/session_start_info`` is a session; its group is the
  start info's ``group_name`` or else the run name; status/end time come from
  ``session_end_info`` in the same run;
- hparam columns: the union, in first-seen order, of the ``hparam_infos`` of every
  experiment record found (runs sorted by name; torch writes one per ``add_hparams``
  call, TensorBoard uses just one) - or, without any experiment, of the session
  hparams' keys, with a discrete domain for string/bool values;
- metric columns: the union of the experiments' ``metric_infos`` (key ``tag``, or
  ``group/tag`` for a non-empty group), or without an experiment every scalar tag of
  the session runs and the runs nested under them;
- a session's metric value is the last value of scalar tag ``tag`` in run
  ``<session>/<group>`` (group "" = the session run itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vizboard.data.models import HParamsData, HParamsSession

__all__ = ["build_hparams"]

_STATUS = {0: "unknown", 1: "success", 2: "failure", 3: "running"}


def _value(v: Any) -> bool | float | str | None:
    kind = v.WhichOneof("kind")
    if kind == "number_value":
        return float(v.number_value)
    if kind == "string_value":
        return str(v.string_value)
    if kind == "bool_value":
        return bool(v.bool_value)
    return None


def _join(run: str, group: str) -> str:
    if not group:
        return run
    return group if run == "." else f"{run}/{group}"


def build_hparams(
    infos: dict[str, dict[str, tuple[Any, float]]],
    scalar_tags: dict[str, list[str]],
    last: Callable[[str, str], float | None],
) -> HParamsData:
    """Build :class:`HParamsData`; ``infos[run][which] = (proto, wall_time)``, ``last(run, tag)``."""
    names: list[str] = []
    domains: dict[str, tuple[Any, ...]] = {}
    metrics: list[tuple[str, str]] = []
    for run in sorted(infos):
        exp = infos[run].get("experiment")
        if exp is None:
            continue
        for h in exp[0].hparam_infos:
            if h.name not in names:
                names.append(h.name)
            dom = h.WhichOneof("domain")
            if dom == "domain_discrete" and h.name not in domains:
                domains[h.name] = tuple(x for x in (_value(v) for v in h.domain_discrete.values) if x is not None)
            elif dom == "domain_interval" and h.name not in domains:
                domains[h.name] = (h.domain_interval.min_value, h.domain_interval.max_value)
        for m in exp[0].metric_infos:
            key = (m.name.group, m.name.tag)
            if key not in metrics:
                metrics.append(key)
    have_experiment = bool(names or metrics)
    session_runs = sorted(r for r, d in infos.items() if "session_start_info" in d)
    if not have_experiment:
        seen_values: dict[str, set[Any]] = {}
        for run in session_runs:
            for k, v in infos[run]["session_start_info"][0].hparams.items():
                if k not in names:
                    names.append(k)
                x = _value(v)
                if isinstance(x, (str, bool)):
                    seen_values.setdefault(k, set()).add(x)
        for k, vals in seen_values.items():
            domains[k] = tuple(sorted(vals, key=str))
        for run in session_runs:
            prefix = "" if run == "." else run + "/"
            for other in sorted(scalar_tags):
                if other == run or (prefix and other.startswith(prefix)) or run == ".":
                    group = "" if other == run else (other if run == "." else other[len(prefix):])
                    for tag in sorted(scalar_tags[other]):
                        if (group, tag) not in metrics:
                            metrics.append((group, tag))
    sessions = []
    for run in session_runs:
        start, start_wall = infos[run]["session_start_info"]
        end = infos[run].get("session_end_info")
        hp = {k: x for k, v in start.hparams.items() if (x := _value(v)) is not None}
        values: dict[str, float] = {}
        for group, tag in metrics:
            x = last(_join(run, group), tag)
            if x is not None:
                values[tag if not group else f"{group}/{tag}"] = x
        sessions.append(HParamsSession(
            run=run,
            group=start.group_name or run,
            hparams=hp,
            metrics=values,
            status=_STATUS.get(end[0].status, "unknown") if end else "unknown",
            start_time=start.start_time_secs or start_wall,
            end_time=end[0].end_time_secs if end else 0.0,
        ))
    metric_tags = tuple(tag if not group else f"{group}/{tag}" for group, tag in metrics)
    return HParamsData(tuple(names), metric_tags, tuple(sessions), domains)
