"""The one-way data flow, enforced: collectors -> snapshot -> app -> widgets."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _imports(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(REPO))] = names
    return found


def test_collectors_import_no_ui() -> None:
    for path, names in _imports(REPO / "collectors").items():
        bad = {n for n in names if n.split(".")[0] in ("textual", "rich", "plotext") or n.startswith(("memtop.widgets", "memtop.cli"))}
        assert not bad, f"{path} imports {bad}"


def test_widgets_never_read_proc_or_the_clock() -> None:
    for path, names in _imports(REPO / "widgets").items():
        bad = {n for n in names if n in ("psutil", "time", "datetime") or n.startswith(("memtop.collectors.snapshot", "memtop.collectors.processes"))}
        assert not bad, f"{path} imports {bad}"


def test_import_linter_contracts_hold(tmp_path: Path) -> None:
    # import-linter finds submodules on disk under the package's folder, which
    # an editable install maps elsewhere: lint a plain (non-editable) install.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(REPO)],
        check=True, capture_output=True,
    )
    assert (target / "memtop" / "collectors" / "snapshot.py").exists()
    assert (target / "memtop" / "collectors" / "heapcount.c").exists()  # memtop run compiles it
    assert not (target / "app").exists() and not (target / "collectors").exists()
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([str(lint), str(REPO / "pyproject.toml")], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


def test_nothing_generic_lands_in_site_packages() -> None:
    import memtop
    import memtop.collectors
    import memtop.widgets

    assert Path(memtop.__file__).parent.name == "app"  # the app/ folder *is* the memtop package
    assert memtop.collectors.__name__ == "memtop.collectors"
    assert memtop.widgets.__name__ == "memtop.widgets"


def test_the_code_type_checks(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--ignore-missing-imports", "--cache-dir", str(tmp_path / "cache"),
         "collectors", "app", "widgets"],
        cwd=REPO, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
