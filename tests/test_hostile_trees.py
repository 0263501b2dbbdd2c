"""Hostile /proc and /sys trees (issue 13, "And prove it stays so"): memtop answers every trap.

Hypothesis damages small fixture trees with what another user, a broken
capture or a careless copy can leave: FIFOs (a reader that opens one waits
forever), symlinks out of the tree (to a file that is not the tree's, to
/dev/zero), huge sparse files, files cut short, binary, empty, turned into
directories, or holding numbers that contradict each other. Each tree is
read by ``memtop --once``, ``memtop --json`` (subprocesses under a timeout
and a memory limit, ``--root DIR``) and the dashboard under a Pilot
(tests/hostile_dashboard.py, a subprocess for the same reason). The rules:
no traceback, no hang, a usage error is one line with exit 2, and no
negative or impossible figure without a reason (``error``, ``marks``,
``notes``). Nothing is timed: the timeout only ends a hang.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import HOSTS

REPO = Path(__file__).resolve().parents[1]
#: A hang is a failure, not a slow run: a tree of this size reads in well under a second.
HANG = 60
#: The child may not grow past this: reading a 1 TiB sparse file or /dev/zero without a cap fails here.
MEMORY_LIMIT = 1 << 30
#: The value every number of the file planted outside the tree has (a symlink out must not bring it in).
OUTSIDE_KB = 777_777
OUTSIDE_TEXT = "".join(
    f"{key}: {OUTSIDE_KB} kB\n" for key in (
        "MemTotal", "MemFree", "MemAvailable", "Cached", "SwapTotal", "SwapFree", "Rss", "Pss", "VmRSS", "VmSize",
        "Private_Clean", "Private_Dirty", "Swap", "Locked",
    )
) + f"Uid:\t0\t0\t0\t0\nName:\toutside\n{OUTSIDE_KB}\n"

BASES = ["basic", "v2", "no-rollup", "zombie", "kthread"]
#: A process of each base whose mappings --maps reads (tests/fixtures/hosts/README.md).
MAPS_PID = {"basic": "1234", "v2": "500", "no-rollup": "900", "zombie": "4242", "kthread": "2"}
KINDS = ["fifo", "link_out", "link_zero", "huge", "truncated", "binary", "empty", "directory", "numbers", "twice"]
SIZES = (
    "total", "free", "available", "used", "buffers", "cached", "shmem", "anon", "slab_reclaimable",
    "slab_unreclaimable", "kernel_stack", "page_tables", "percpu", "hugetlb", "zswap", "dirty", "writeback",
    "swap_total", "swap_free", "swap_cached", "anon_huge", "shmem_huge", "file_huge", "mapped",
)
PROCESS_SIZES = (
    "rss", "pss", "uss", "swap", "swap_pss", "pss_anon", "pss_file", "pss_shmem", "pss_dirty", "anon", "file",
    "shmem", "vsize", "hwm", "anon_huge", "hugetlb", "referenced", "locked",
)


def _files(base: Path) -> list[str]:
    out = []
    for top, _dirs, names in os.walk(base):
        for name in names:
            out.append(os.path.relpath(os.path.join(top, name), base))
    return sorted(out)


TREES = {name: _files(HOSTS / name) for name in BASES}

_NUMBER = re.compile(rb"\d+")


def _damage(root: Path, outside: Path, relative: str, kind: str, data: Any) -> None:
    """One trap planted at ``relative`` (a file of the tree)."""
    path = root / relative
    original = path.read_bytes()
    if kind in ("fifo", "link_out", "link_zero", "directory"):
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link_out":
        path.symlink_to(outside)
    elif kind == "link_zero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    elif kind == "huge":
        os.truncate(path, 1 << 40)  # sparse: no disk, a terabyte to a reader without a cap
    elif kind == "truncated":
        path.write_bytes(original[: int(len(original) * data)])
    elif kind == "binary":
        path.write_bytes(data)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "numbers":
        # Every number replaced: contradictions (free > total, PSS > RSS), zeros, 30-digit and signed values.
        values = iter(data)
        path.write_bytes(_NUMBER.sub(lambda m: next(values, m.group()), original))
    elif kind == "twice":
        # A line given twice with another number: which one is true?
        lines = original.splitlines()
        if lines:
            at = data % len(lines)
            lines.insert(at, _NUMBER.sub(b"4242", lines[at]))
        path.write_bytes(b"\n".join(lines) + b"\n")


def _kind_data(kind: str) -> st.SearchStrategy[Any]:
    if kind == "truncated":
        return st.floats(0.0, 0.99)
    if kind == "binary":
        return st.binary(min_size=1, max_size=300)
    if kind == "numbers":
        number = st.one_of(
            st.integers(0, 10).map(str), st.integers(0, 2**64).map(str), st.just("9" * 30),
            st.integers(-(2**40), -1).map(str), st.just("+5"), st.just("1_0"),
        ).map(str.encode)
        return st.lists(number, min_size=1, max_size=40)
    if kind == "twice":
        return st.integers(0, 10_000)
    return st.none()


DAMAGE = st.sampled_from(KINDS).flatmap(lambda kind: st.tuples(st.just(kind), _kind_data(kind)))


@st.composite
def hostile_trees(draw: st.DrawFn) -> tuple[str, list[tuple[str, str, Any]]]:
    base = draw(st.sampled_from(BASES))
    files = TREES[base]
    damages = draw(st.lists(st.tuples(st.sampled_from(files), DAMAGE), min_size=1, max_size=3,
                            unique_by=lambda d: d[0]))
    return base, [(where, kind, data) for where, (kind, data) in damages]


class Tree:
    """A damaged copy of a fixture tree in a temporary directory, with the file planted outside it."""

    def __init__(self, base: str, damages: list[tuple[str, str, Any]]) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="memtop-hostile-")
        top = Path(self._dir.name)
        self.outside = top / "outside"
        self.outside.write_text(OUTSIDE_TEXT)
        self.root = top / "root"
        shutil.copytree(HOSTS / base, self.root, symlinks=True)
        for where, kind, data in damages:
            _damage(self.root, self.outside, where, kind, data)
        self.state = top / "state"
        self.state.mkdir()

    def __enter__(self) -> Tree:
        return self

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "XDG_STATE_HOME": str(self.state), "XDG_CACHE_HOME": str(self.state),
               "XDG_CONFIG_HOME": str(self.state), "NO_COLOR": "1"}
        try:
            return subprocess.run(
                [sys.executable, *args], capture_output=True, text=True, timeout=HANG, env=env, cwd=REPO,
                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT)),
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"hang: {' '.join(args)} did not end in {HANG} s on {self.describe()}")

    def describe(self) -> str:
        return str(self.root)


def _answered(done: subprocess.CompletedProcess[str], what: str) -> None:
    """No traceback; exit 0, or 2 with one line saying why."""
    assert "Traceback" not in done.stderr, f"{what}: {done.stderr[-3000:]}"
    assert done.returncode in (0, 2), f"{what}: exit {done.returncode}: {done.stderr[-2000:]}"
    if done.returncode == 2:
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("memtop: "), f"{what}: {done.stderr!r}"


def _check_json(doc: dict[str, Any]) -> list[str]:
    """Every figure that cannot be true and comes without a reason."""
    wrong = []
    system = doc["system"]
    if system is not None:
        for key in SIZES:
            value = system[key]
            if value is not None and value < 0:
                wrong.append(f"system.{key} = {value}")
        if system["used"] is not None and system["total"] is not None and system["used"] > system["total"]:
            wrong.append(f"used {system['used']} above total {system['total']}")
        wrong += [f"taxonomy {p['name']} = {p['bytes']}" for p in system["taxonomy"] if p["bytes"] < 0]
    outside = OUTSIDE_KB * 1024
    for p in doc["processes"]:
        where = f"pid {p['pid']}"
        for key in PROCESS_SIZES:
            if p[key] is not None and p[key] < 0:
                wrong.append(f"{where}: {key} = {p[key]}")
        reasoned = p["error"] is not None
        if p["pss"] is not None and p["rss"] is not None and p["pss"] > p["rss"] and not p["marks"]:
            wrong.append(f"{where}: PSS {p['pss']} above RSS {p['rss']} without a mark")
        if p["uss"] is not None and p["pss"] is not None and p["uss"] > p["pss"]:
            wrong.append(f"{where}: USS {p['uss']} above PSS {p['pss']}")
        alive = not p["kernel_thread"] and p["state"] not in ("Z", "X")
        if alive and (p["pss"] is None or p["rss"] is None) and not reasoned:
            wrong.append(f"{where}: pss {p['pss']} rss {p['rss']} missing without a reason")
        if outside in (p["rss"], p["pss"], p["uss"], p["vsize"]):
            wrong.append(f"{where}: a figure from the file outside the tree (a symlink was followed)")
    if system is not None and outside in (system["total"], system["free"], system["available"]):
        wrong.append("system: a figure from the file outside the tree (a symlink was followed)")
    for c in doc["cgroups"] or ():
        if isinstance(c.get("current"), int) and c["current"] < 0:
            wrong.append(f"cgroup {c['path']}: current {c['current']}")
    return wrong


_NEGATIVE_CELL = re.compile(r"(?<![\w/.-])-\d+(?:\.\d)? ?(?:B|KiB|MiB|GiB|TiB)\b")


@settings(max_examples=40)
@given(hostile_trees())
def test_once_and_json_answer_every_trap(tree: tuple[str, list[tuple[str, str, Any]]]) -> None:
    base, damages = tree
    with Tree(base, damages) as t:
        what = f"{base} with {[(w, k) for w, k, _ in damages]}"
        done = t.run("-m", "memtop", "--json", "--kernel-threads", "--root", str(t.root))
        _answered(done, f"--json on {what}")
        if done.returncode == 0:
            wrong = _check_json(json.loads(done.stdout))
            assert not wrong, f"--json on {what}: {wrong}"
        done = t.run("-m", "memtop", "--once", "--kernel-threads", "--root", str(t.root))
        _answered(done, f"--once on {what}")
        assert not _NEGATIVE_CELL.search(done.stdout), f"--once on {what}: a negative figure\n{done.stdout}"
        pid = MAPS_PID[base]
        done = t.run("-m", "memtop", "--maps", pid, "--json", "--root", str(t.root))
        _answered(done, f"--maps {pid} on {what}")
        if done.returncode == 0:
            for m in json.loads(done.stdout)["mappings"]:
                sizes = [m["size"], m["rss"], m["pss"], m["uss"], m["swap"], *m["fields"].values()]
                assert min(sizes) >= 0 and m["end"] >= m["start"], f"--maps {pid} on {what}: {m}"


@settings(max_examples=15)
@given(hostile_trees())
def test_capture_of_a_hostile_tree_stays_private_and_inside(tree: tuple[str, list[tuple[str, str, Any]]]) -> None:
    base, damages = tree
    with Tree(base, damages) as t:
        what = f"capture of {base} with {[(w, k) for w, k, _ in damages]}"
        out = t.state / "capture"
        done = t.run("-m", "memtop", "capture", str(out), "--root", str(t.root))
        _answered(done, what)
        if done.returncode != 0:
            return
        for top, dirs, names in os.walk(out):
            for name in dirs:
                assert stat.S_IMODE(os.lstat(os.path.join(top, name)).st_mode) == 0o700, f"{what}: {top}/{name}"
            for name in names:
                path = os.path.join(top, name)
                info = os.lstat(path)
                assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600, f"{what}: {path}"
                assert str(OUTSIDE_KB).encode() not in Path(path).read_bytes(), f"{what}: {path} holds the file outside the tree"


@pytest.mark.parametrize("point", ["/sys/../../../", "/sys/fs/cgroup/../../../.."])
def test_a_mountinfo_point_never_leads_out_of_the_tree(point: str) -> None:
    with Tree("v2", []) as t:
        mountinfo = t.root / "proc" / "self" / "mountinfo"
        mountinfo.write_text(mountinfo.read_text().replace(" /sys/fs/cgroup rw", f" {point} rw"))
        done = t.run("-m", "memtop", "--json", "--root", str(t.root))
        _answered(done, f"mountinfo point {point}")
        if done.returncode == 0:
            base = t.root / "sys" / "fs" / "cgroup"
            inside = {"/"} | {"/" + os.path.relpath(top, base) for top, _d, _n in os.walk(base)}
            paths = {c["path"] for c in json.loads(done.stdout)["cgroups"] or ()}
            assert paths <= inside, f"cgroups outside the tree: {sorted(paths - inside)[:5]}"


@settings(max_examples=12)
@given(hostile_trees())
def test_the_dashboard_answers_every_trap(tree: tuple[str, list[tuple[str, str, Any]]]) -> None:
    base, damages = tree
    with Tree(base, damages) as t:
        done = t.run("-m", "tests.hostile_dashboard", str(t.root))
        what = f"the dashboard on {base} with {[(w, k) for w, k, _ in damages]}"
        assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, f"{what}: {done.stderr[-3000:]}{done.stdout[-2000:]}"
        last = done.stdout.strip().splitlines()[-1:]
        shown = done.returncode == 0 and last in (["OK"], ["failed pass shown"])
        refused = done.returncode == 2 and done.stdout.startswith("refused: ") and len(done.stdout.splitlines()) == 1
        assert shown or refused, f"{what}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


@pytest.mark.parametrize("kind", KINDS)
def test_each_trap_alone_on_meminfo_and_a_rollup(kind: str) -> None:
    """Each hazard once, where it hurts most, so a failure names its trap."""
    data = {"truncated": 0.5, "binary": bytes(range(256)), "numbers": [b"99999999", b"1", b"-5"], "twice": 1}.get(kind)
    with Tree("basic", [("proc/meminfo", kind, data), ("proc/1/smaps_rollup", kind, data)]) as t:
        done = t.run("-m", "memtop", "--json", "--root", str(t.root))
        _answered(done, f"--json with {kind}")
        if done.returncode == 0:
            wrong = _check_json(json.loads(done.stdout))
            assert not wrong, f"--json with {kind}: {wrong}"

