"""Transparent Huge Pages state from /sys/kernel/mm/transparent_hugepage.

Documentation/admin-guide/mm/transhuge.rst. Per-size (mTHP) directories
hugepages-<size>kB arrived in 6.8; their ``stats/`` in 6.9. Some sizes have no
``enabled`` file (for example the PMD size for shmem only). Anything missing
is None, never an error.
"""

from __future__ import annotations

import os
from pathlib import Path

from .fs import decode, read_record
from .models import ThpSize, ThpState

THP_DIR = "kernel/mm/transparent_hugepage"


def parse_selected(text: str) -> str | None:
    """The selected word of a sysfs choice file: ``always [madvise] never`` -> ``madvise``.

    A file without brackets holds a plain value, returned stripped.
    """
    start = text.find("[")
    if start >= 0:
        end = text.find("]", start + 1)
        if end > start + 1:
            return text[start + 1 : end]
        return None
    value = text.strip()
    return value or None


def _value(text: str) -> int | str:
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        return parse_selected(stripped) or stripped


def _read_text(dir_fd: int, name: str) -> str | None:
    try:
        return decode(read_record(dir_fd, name))
    except OSError:
        return None


def _read_dir_values(dir_fd: int, sub: str) -> tuple[tuple[str, int | str], ...] | None:
    """Every file of one directory (relative to ``dir_fd``), or None when it is missing."""
    try:
        sub_fd = os.open(sub, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        names = sorted(os.listdir(sub_fd))
    finally:
        os.close(sub_fd)
    out: list[tuple[str, int | str]] = []
    for name in names:
        text = _read_text(dir_fd, f"{sub}/{name}")
        if text is not None:
            out.append((name, _value(text)))
    return tuple(out)


def _choice(dir_fd: int, name: str) -> str | None:
    text = _read_text(dir_fd, name)
    return None if text is None else parse_selected(text)


def _size_kb(entry: str) -> int:
    digits = entry[len("hugepages-") : -len("kB")]
    return int(digits) if digits.isdigit() else 0


def read_thp(sys_root: Path) -> ThpState | None:
    """Read THP state under a sysfs root, or None when THP is absent (compiled out, containers).

    About 180 small files on a 6.x kernel with mTHP; paths are kept as strings
    relative to one directory descriptor because this runs every refresh.
    """
    try:
        base = os.open(sys_root / THP_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        khugepaged = _read_dir_values(base, "khugepaged")
        entries = sorted((e for e in os.listdir(base) if e.startswith("hugepages-") and e.endswith("kB")), key=_size_kb)
        sizes: list[tuple[str, ThpSize]] = []
        for entry in entries:
            stats = tuple((k, v) for k, v in _read_dir_values(base, f"{entry}/stats") or () if isinstance(v, int))
            sizes.append((entry[len("hugepages-") :], ThpSize(_choice(base, f"{entry}/enabled"), stats)))
        return ThpState(
            enabled=_choice(base, "enabled"),
            defrag=_choice(base, "defrag"),
            shmem_enabled=_choice(base, "shmem_enabled"),
            khugepaged=khugepaged,
            sizes=tuple(sizes) if sizes else None,
        )
    finally:
        os.close(base)


def may_fault(size: ThpSize, top_enabled: str | None) -> bool:
    """Whether a size can allocate anonymous huge pages now, so its stats can move.

    transhuge.rst: a size set to ``inherit`` follows the top-level ``enabled``;
    ``never`` allocates nothing. A size without ``enabled`` (shmem-only) is
    driven by shmem_enabled and is read anyway, as are unknown words.
    """
    policy = size.enabled
    if policy == "inherit":
        policy = top_enabled
    return policy != "never"


def refresh_stats(sys_root: Path, state: ThpState) -> ThpState:
    """``state`` with the stats of the sizes that can fault re-read; the rest kept.

    A live view wants per-size fault rates every refresh, but most sizes are
    ``never`` on most hosts (18 files each): only the live ones are read.
    """
    if not state.sizes:
        return state
    live = [i for i, (_name, size) in enumerate(state.sizes) if may_fault(size, state.enabled)]
    if not live:
        return state
    try:
        base = os.open(sys_root / THP_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return state
    try:
        sizes = list(state.sizes)
        for index in live:
            name, size = sizes[index]
            values = _read_dir_values(base, f"hugepages-{name}/stats")
            if values is not None:
                stats = tuple((k, v) for k, v in values if isinstance(v, int))
                sizes[index] = (name, ThpSize(size.enabled, stats))
    finally:
        os.close(base)
    return ThpState(state.enabled, state.defrag, state.shmem_enabled, state.khugepaged, tuple(sizes))
