"""PR curves: TensorBoard's trailing trim, thresholds, traces per run and hover contents."""

from __future__ import annotations

import numpy as np
import pytest

from vizboard.data.models import PrCurveEntry
from vizboard.figures.pr_curves import entry_at, pr_figure, trim_pr


def _data(tp, fp, tn, fn) -> np.ndarray:
    tp, fp, tn, fn = (np.asarray(a, float) for a in (tp, fp, tn, fn))
    precision = tp / np.maximum(tp + fp, 1e-7)
    recall = tp / np.maximum(tp + fn, 1e-7)
    return np.stack([tp, fp, tn, fn, precision, recall])


def test_trailing_columns_without_positives_are_trimmed() -> None:
    d = _data([5, 4, 2, 0, 0], [5, 2, 1, 0, 0], [0, 3, 4, 5, 5], [0, 1, 3, 5, 5])
    c = trim_pr(d)
    assert len(c.thresholds) == 3
    np.testing.assert_allclose(c.thresholds, [0, 0.25, 0.5])
    np.testing.assert_allclose(c.tp, [5, 4, 2])
    np.testing.assert_allclose(c.precision, [0.5, 4 / 6, 2 / 3])


def test_interior_zero_columns_are_kept_and_first_column_always() -> None:
    d = _data([3, 0, 1], [1, 0, 0], [0, 1, 1], [0, 3, 2])
    assert len(trim_pr(d).thresholds) == 3
    d = _data([0, 0], [0, 0], [1, 1], [1, 1])
    assert len(trim_pr(d).thresholds) == 1


def test_bad_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"\[6, T\]"):
        trim_pr(np.zeros((5, 3)))


def test_entry_at_picks_exact_or_previous() -> None:
    es = [PrCurveEntry(s, 0.0, np.zeros((6, 2))) for s in (0, 10, 20)]
    assert entry_at(es, 10).step == 10 and entry_at(es, 15).step == 10
    assert entry_at(es, -1) is None and entry_at(es, 99).step == 20


def test_figure_one_trace_per_run_with_hover() -> None:
    d1 = _data([5, 4, 2, 0], [5, 2, 1, 0], [0, 3, 4, 5], [0, 1, 3, 5])
    d2 = _data([5, 5, 5, 5], [5, 0, 0, 0], [0, 5, 5, 5], [0, 0, 0, 0])
    fig = pr_figure({"a": PrCurveEntry(3, 0.0, d1), "b": PrCurveEntry(3, 0.0, d2)},
                    colors={"a": "#123456"})
    assert [t.name for t in fig.data] == ["a", "b"]
    assert fig.data[0].line.color == "#123456"
    assert len(fig.data[0].x) == 3 and len(fig.data[1].x) == 4
    np.testing.assert_allclose(fig.data[1].y, [0.5, 1, 1, 1])
    tpl = fig.data[0].hovertemplate
    for word in ("threshold", "precision", "recall", "TP", "FP", "TN", "FN"):
        assert word in tpl
    np.testing.assert_allclose(np.asarray(fig.data[0].customdata)[:, 0], [0, 1 / 3, 2 / 3])


def test_run_from_an_older_step_is_named_so() -> None:
    d = _data([5, 4], [5, 2], [0, 3], [0, 1])
    fig = pr_figure({"a": PrCurveEntry(3, 0.0, d), "b": PrCurveEntry(1, 0.0, d)}, step=3)
    assert [t.name for t in fig.data] == ["a", "b (step 1)"]
