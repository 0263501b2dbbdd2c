"""Transparent Huge Pages state from /sys/kernel/mm/transparent_hugepage.

Documentation/admin-guide/mm/transhuge.rst. Per-size (mTHP) directories
hugepages-<size>kB arrived in 6.8; their ``stats/`` in 6.9. Some sizes have no
``enabled`` file (for example the PMD size for shmem only). Anything missing
is None, never an error.
"""

from __future__ import annotations

import os
from pathlib import Path

from .fs import read_optional
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


def _read_dir_values(directory: Path) -> tuple[tuple[str, int | str], ...]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return ()
    out: list[tuple[str, int | str]] = []
    for name in names:
        text = read_optional(directory / name)
        if text is not None:
            out.append((name, _value(text)))
    return tuple(out)


def _choice(directory: Path, name: str) -> str | None:
    text = read_optional(directory / name)
    return None if text is None else parse_selected(text)


def read_thp(sys_root: Path) -> ThpState | None:
    """Read THP state under a sysfs root, or None when THP is absent (compiled out, containers)."""
    base = sys_root / THP_DIR
    if not base.is_dir():
        return None
    khugepaged_dir = base / "khugepaged"
    khugepaged = _read_dir_values(khugepaged_dir) if khugepaged_dir.is_dir() else None
    sizes: list[tuple[str, ThpSize]] = []
    try:
        entries = sorted(e for e in os.listdir(base) if e.startswith("hugepages-") and e.endswith("kB"))
    except OSError:
        entries = []
    for entry in sorted(entries, key=lambda e: int(e[10:-2]) if e[10:-2].isdigit() else 0):
        stats = tuple((k, v) for k, v in _read_dir_values(base / entry / "stats") if isinstance(v, int))
        sizes.append((entry[len("hugepages-") :], ThpSize(_choice(base / entry, "enabled"), stats)))
    return ThpState(
        enabled=_choice(base, "enabled"),
        defrag=_choice(base, "defrag"),
        shmem_enabled=_choice(base, "shmem_enabled"),
        khugepaged=khugepaged,
        sizes=tuple(sizes) if sizes else None,
    )
