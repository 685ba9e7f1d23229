"""vizboard.server start-up helpers: Dash is imported without IPython outside a notebook."""

from __future__ import annotations

import sys
import types

import pytest

from vizboard.server import _without_ipython


@pytest.fixture
def fake_ipython(tmp_path, monkeypatch):
    """An importable package named IPython (so the test does not depend on IPython being installed)."""
    pkg = tmp_path / "IPython"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("MARK = 'fake'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "IPython" or m.startswith("IPython.")]:
        monkeypatch.delitem(sys.modules, name)
    yield
    sys.modules.pop("IPython", None)


def test_ipython_is_refused_while_dash_imports_and_importable_after(fake_ipython):
    before = list(sys.meta_path)
    with _without_ipython():
        with pytest.raises(ImportError, match="notebook"):
            import IPython  # noqa: F401
    assert "IPython" not in sys.modules  # nothing half-imported left behind
    assert sys.meta_path == before
    import IPython

    assert IPython.MARK == "fake"


def test_inside_a_notebook_nothing_changes(monkeypatch):
    already = types.ModuleType("IPython")
    monkeypatch.setitem(sys.modules, "IPython", already)
    before = list(sys.meta_path)
    with _without_ipython():
        assert sys.meta_path == before
        import IPython

        assert IPython is already
