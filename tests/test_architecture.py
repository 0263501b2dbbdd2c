"""The one-way data flow, enforced: collectors -> snapshot -> model -> tui/widgets, and no import cycles."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Lists the import cycles of the installed package as JSON: one path per
#: strongly connected group of modules (a -> b -> ... -> a). grimp counts the
#: imports under TYPE_CHECKING and those inside functions too: a cycle
#: through them still ties the modules together (issue 14).
CYCLES = textwrap.dedent("""
    import json, sys
    from collections import deque

    import grimp
    import memtop

    assert memtop.__file__.startswith(sys.argv[1]), memtop.__file__  # the plain install, not the editable one
    graph = grimp.build_graph("memtop", cache_dir=None)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def connect(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1 or v in edges.get(v, ()):
                groups.append(group)

    sys.setrecursionlimit(10_000)
    for module in edges:
        if module not in index:
            connect(module)
    cycles = []
    for group in groups:  # the shortest way around each group, from its first module
        start = min(group)
        before = {start: None}
        queue = deque([start])
        while queue:
            v = queue.popleft()
            if start in edges[v] and v in before:
                path = [start]
                while v != start:
                    path.insert(1, v)
                    v = before[v]
                cycles.append(path + [start])
                break
            for w in edges[v]:
                if w in group and w not in before:
                    before[w] = v
                    queue.append(w)
    print(json.dumps(sorted(cycles)))
""")

@pytest.fixture(scope="module")
def plain_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package installed as a user gets it (not editable): import-linter and grimp find
    submodules on disk under the package's folder, which an editable install maps elsewhere."""
    target = tmp_path_factory.mktemp("plain") / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(REPO)],
        check=True, capture_output=True,
    )
    return target


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


def test_import_linter_contracts_hold(plain_install: Path, tmp_path: Path) -> None:
    target = plain_install
    assert (target / "memtop" / "collectors" / "snapshot.py").exists()
    assert (target / "memtop" / "collectors" / "heapcount.c").exists()  # memtop run compiles it
    assert not (target / "app").exists() and not (target / "collectors").exists()
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run([str(lint), "--config", str(REPO / "pyproject.toml")], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


def test_no_import_cycles(plain_install: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(plain_install)}
    found = subprocess.run([sys.executable, "-c", CYCLES, str(plain_install)], cwd=tmp_path, capture_output=True,
                           text=True, env=env)
    assert found.returncode == 0, found.stderr
    cycles: list[list[str]] = json.loads(found.stdout)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


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
