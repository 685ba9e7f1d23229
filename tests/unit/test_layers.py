"""The import direction of DESIGN.md §2, enforced on every module's source (imports inside functions too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Layer of a module, by longest matching prefix. Higher number = higher layer.
LAYERS: dict[str, int] = {
    "logger": 0,
    "vizboard.data": 1,
    "vizboard.export": 1,
    "vizboard.export_formats": 1,
    "vizboard.figures": 2,
    "vizboard.components": 3,
    "vizboard.dashboards": 4,
    "vizboard.api": 5,
    "vizboard.page_api": 5,
    "vizboard.page_groups_api": 5,
    "vizboard.app": 5,
    "vizboard.server": 5,
    "vizboard.demo": 5,
    "vizboard.config": 5,
    "vizboard.cli": 6,
    "vizboard.__main__": 6,
    "vizboard": 6,  # the package's own __init__ (public read API)
}

# Third-party packages a layer must never import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "logger": ("vizboard", "dash", "plotly", "watchdog", "flask", "pandas", "dash_cytoscape"),
    "vizboard.data": ("dash", "plotly", "flask", "dash_cytoscape"),
    "vizboard.export": ("dash", "plotly", "flask", "watchdog"),
    "vizboard.export_formats": ("dash", "plotly", "flask", "watchdog"),
    "vizboard.figures": ("dash", "flask", "watchdog", "dash_cytoscape"),
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer_key(module: str) -> str | None:
    best = None
    for key in LAYERS:
        if module == key or module.startswith(key + "."):
            if best is None or len(key) > len(best):
                best = key
    return best


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_name(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def _sources() -> list[Path]:
    files = [p for pkg in ("logger", "vizboard") for p in (ROOT / pkg).rglob("*.py")]
    return sorted(p for p in files if "_pb" not in p.parts)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    module = _module_name(path)
    key = _layer_key(module)
    assert key is not None, f"{module} is in no layer of DESIGN.md §2; add it to LAYERS"
    own = LAYERS[key]
    problems = []
    for lineno, name in _imports(path):
        top = name.split(".")[0]
        target_key = _layer_key(name)
        if target_key is not None and LAYERS[target_key] > own:
            problems.append(f"line {lineno}: {module} (layer {key}) imports higher layer {name}")
        for forbidden_key, banned in FORBIDDEN.items():
            if (module == forbidden_key or module.startswith(forbidden_key + ".")) and top in banned:
                problems.append(f"line {lineno}: {module} must not import {name}")
    assert not problems, "\n".join(problems)


def test_every_package_is_checked() -> None:
    modules = {_module_name(p) for p in _sources()}
    assert any(m.startswith("logger") for m in modules)
    assert any(m.startswith("vizboard.data") for m in modules)
