"""The package's shape, read from its source: imports run one way, Qt stays in ui/, modules stay small.

The layers, from the top: cli -> commands -> ui / session -> runtime -> calibration, feedback
-> dsp -> io -> config, errors. A module may import its own layer's or any lower layer's
modules, never a higher one; ``errors`` imports nothing from the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "emgfeedback"

#: Rank of each top-level part of the package; imports may only go to an equal or lower rank.
LAYERS: dict[str, int] = {
    "errors": 0,
    "config": 1,
    "paths": 1,
    "private_files": 1,
    "muscles": 1,
    "palette": 1,
    "progress": 1,
    "frontends": 1,
    "firmware": 1,
    "avrdude": 1,
    "__init__": 1,
    "io": 2,
    "dsp": 3,
    "feedback": 4,
    "calibration": 4,
    "training": 4,
    "cue_sounds": 4,
    "runtime": 5,
    "session": 6,
    "ui": 6,
    "doctor": 7,
    "commands": 7,
    "cli": 8,
    "__main__": 9,
}
#: Same-rank parts that must not import each other (they are siblings, not a stack).
SIBLINGS_APART = {frozenset({"ui", "session"}), frozenset({"feedback", "calibration"})}
QT_MODULES = ("PySide6", "pyqtgraph", "shiboken6")
MAX_LINES = 420


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module name ``path`` imports (absolute, resolved from relative imports), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ".".join(("emgfeedback", *path.relative_to(PACKAGE).with_suffix("").parts[:-1]))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            if mod == "emgfeedback":  # from emgfeedback import x: x is a part of its own
                out += [(node.lineno, f"emgfeedback.{alias.name}") for alias in node.names]
    return out


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _violations() -> list[str]:
    found = []
    for path in _modules():
        part = _part(path)
        rank = LAYERS.get(part)
        where = path.relative_to(PACKAGE.parent)
        if rank is None:
            found.append(f"{where}: top-level part {part!r} has no layer: add it to LAYERS")
            continue
        for line, mod in _imports(path):
            if mod.startswith(QT_MODULES) and part != "ui":
                found.append(f"{where}:{line}: imports {mod} outside ui/")
            if not mod.startswith("emgfeedback."):
                continue
            target = mod.split(".")[1]
            if target == part:
                continue
            if part == "errors":
                found.append(f"{where}:{line}: errors.py must import nothing from the package, imports {mod}")
                continue
            target_rank = LAYERS.get(target)
            if target_rank is None:
                continue  # emgfeedback.__version__ and the like
            if target_rank > rank or frozenset({part, target}) in SIBLINGS_APART:
                found.append(f"{where}:{line}: {part} (layer {rank}) imports {mod} (layer {target_rank})")
    return found


def test_imports_run_one_way_and_qt_stays_in_ui() -> None:
    assert _violations() == []


def test_the_rule_catches_a_forbidden_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The checker itself: an io module importing the runtime, and dsp importing Qt, are both reported."""
    fake = tmp_path / "emgfeedback"
    (fake / "io").mkdir(parents=True)
    (fake / "dsp").mkdir()
    (fake / "io" / "bad.py").write_text("from emgfeedback.runtime.acquisition import Acquisition\n")
    (fake / "dsp" / "qt.py").write_text("from PySide6.QtCore import QObject\n")
    (fake / "errors.py").write_text("from emgfeedback import config\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", fake)
    found = "\n".join(_violations())
    assert "io/bad.py:1: io (layer 2) imports emgfeedback.runtime.acquisition (layer 5)" in found
    assert "dsp/qt.py:1: imports PySide6.QtCore outside ui/" in found
    assert "errors.py must import nothing" in found


def test_no_module_is_over_about_400_lines() -> None:
    long = {str(p.relative_to(PACKAGE.parent)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_import_error_guard_around_the_package_itself() -> None:
    """``except ImportError`` around our own modules would turn a real import bug into 'not available'."""
    found = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Try):
                continue
            catches = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
            if not catches & {"ImportError", "ModuleNotFoundError"}:
                continue
            for line, mod in (m for stmt in node.body for m in _imports_of(stmt)):
                if mod.startswith("emgfeedback"):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {mod}")
    assert found == []


def _imports_of(stmt: ast.stmt) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(stmt):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.lineno, node.module if not node.level else "emgfeedback." + node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return out
