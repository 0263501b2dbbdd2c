"""/proc/PID/smaps: every mapping of one process, with every field the kernel prints.

A process may have 65,000 mappings (vm.max_map_count); its smaps is then 44 MiB
and 1.6 million lines (feasibility.md §D). All entries of one file share the
same line layout, so the fast path parses column by column with a fixed
stride, checking the layout with C-speed counts; any irregular file takes the
general line-by-line parser, which gives the same result.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import repeat
from pathlib import Path
from typing import Any

from .errors import ParseError
from .fs import read_file
from .models import Mapping
from .procfs import parse_stat
from .safe_open import SMAPS_LIMIT

KIB = 1024

_LIB = re.compile(r"\.so(\.[0-9.]+)?$")


def classify(path: str, perms: str) -> str:
    """The kind of a mapping: heap, stack, anon, lib, file, shm or special."""
    if not path:
        return "anon"
    if path == "[heap]":
        return "heap"
    if path.startswith("[stack"):
        return "stack"
    if path.startswith("[anon_shmem:"):
        return "shm"
    if path.startswith("[anon:"):  # named with prctl(PR_SET_VMA_ANON_NAME), 5.17+
        return "anon"
    if path.startswith("["):
        return "special"
    bare = path.removesuffix(" (deleted)")
    if bare.startswith(("/memfd:", "/SYSV", "/dev/shm/")) or (bare == "/dev/zero" and perms[3:4] == "s"):
        return "shm"
    if _LIB.search(bare):
        return "lib"
    return "file"


def _parse_header(line: bytes) -> tuple[int, int, str, int, str, int, str]:
    words = line.split(None, 5)
    if len(words) < 5:
        raise ParseError(f"smaps: malformed mapping header {line[:80]!r}")
    try:
        low, _, high = words[0].partition(b"-")
        path = words[5].decode("utf-8", "backslashreplace") if len(words) == 6 else ""
        start, end = int(low, 16), int(high, 16)
        if end < start or not words[4].isdigit():
            raise ValueError(line)  # an end before the start, a signed inode: no kernel wrote it
        return (
            start, end, words[1].decode("ascii"), int(words[2], 16),
            words[3].decode("ascii"), int(words[4]), path.strip(" "),
        )
    except (ValueError, UnicodeDecodeError):
        raise ParseError(f"smaps: malformed mapping header {line[:80]!r}") from None


def _is_header(line: bytes) -> bool:
    key = line.partition(b":")[0]
    return b" " in key or b"-" in key


def _field_value(key: bytes, value: bytes, line: bytes) -> int:
    words = value.split()
    # Digits only: int() takes "-5" and "+5" too, and a negative size is no
    # size (issue 13, item 9: hostile smaps gave negative totals in --maps).
    try:
        if words and words[0].isdigit():
            if len(words) == 2 and words[1] == b"kB":
                return int(words[0]) * KIB
            if len(words) == 1:
                return int(words[0])
    except ValueError:  # over 4,300 digits
        pass
    raise ParseError(f"smaps: malformed field {line[:80]!r}")


def _mapping(header: bytes, keys: tuple[str, ...], values: tuple[int, ...], flags: tuple[str, ...]) -> Mapping:
    start, end, perms, offset, dev, inode, path = _parse_header(header)
    return Mapping(start, end, perms, offset, dev, inode, path, classify(path, perms), keys, values, flags)


def parse_smaps_general(raw: bytes) -> tuple[Mapping, ...]:
    """Line-by-line parser: any layout, unknown fields kept in file order."""
    out: list[Mapping] = []
    header: bytes | None = None
    keys: list[str] = []
    values: list[int] = []
    flags: tuple[str, ...] = ()
    for line in raw.split(b"\n"):
        if not line:
            continue
        if _is_header(line):
            if header is not None:
                out.append(_mapping(header, tuple(keys), tuple(values), flags))
            header, keys, values, flags = line, [], [], ()
            continue
        if header is None:
            raise ParseError("smaps: field before the first mapping header")
        key, sep, value = line.partition(b":")
        if not sep:
            raise ParseError(f"smaps: malformed line {line[:80]!r}")
        if key == b"VmFlags":
            flags = tuple(value.decode("ascii", "backslashreplace").split())
        else:
            keys.append(key.decode("ascii", "backslashreplace"))
            values.append(_field_value(key, value, line))
    if header is not None:
        out.append(_mapping(header, tuple(keys), tuple(values), flags))
    return tuple(out)


def _column(joined: bytes, column: list[bytes], prefix: bytes, count: int) -> list[int] | None:
    """The numbers of one field over all entries, or None when a line is irregular.

    ``column`` holds every entry's line of the field, each already known to
    start with ``prefix``; ``joined`` is them joined by newlines, for checks
    at C speed. ``Key: N kB`` lines are cut to N by slicing (int() takes the
    padding); anything int() refuses sends the file to the general parser.
    """
    try:
        if joined.endswith(b" kB") and joined.count(b" kB\n") == count - 1:
            cut = len(prefix)
            values = [int(line[cut:-3]) * KIB for line in column]
        else:
            tokens = joined.split()  # unitless: THPeligible, ProtectionKey
            if len(tokens) != 2 * count or tokens[0::2].count(prefix) != count:
                return None
            values = list(map(int, tokens[1::2]))
    except ValueError:
        return None
    # int() takes a sign: a negative value sends the file to the general parser, which refuses it.
    return values if min(values, default=0) >= 0 else None


def _parse_strided(lines: list[bytes], fields: frozenset[str] | None = None) -> tuple[Mapping, ...] | None:
    """Column-wise parse when every entry has the first entry's layout, else None.

    At 65,000 mappings (1.6 million lines) this is the difference between
    seconds and a fraction of one: each field is one column, checked and
    converted with C-level bytes operations (feasibility.md §D).
    """
    stride = 1
    while stride < len(lines) and not _is_header(lines[stride]):
        stride += 1
    count, extra = divmod(len(lines), stride)
    if extra or count < 2:
        return None
    keys: list[str] = []
    columns: list[list[int]] = []
    flags_column: list[tuple[str, ...]] | None = None
    for j in range(1, stride):
        column = lines[j::stride]
        key, sep, _ = column[0].partition(b":")
        if not sep:
            return None
        if fields is not None and key.decode("ascii", "replace") not in fields:
            continue  # a first paint needs a few columns; the rest come with the next read
        prefix = key + b":"
        joined = b"\n".join(column)
        # Every line of the column starts with the key (counted at C speed).
        if not joined.startswith(prefix) or joined.count(b"\n" + prefix) != count - 1:
            return None
        if key == b"VmFlags":
            cut = len(prefix)
            # A few distinct flag sets among thousands of mappings: each decoded once.
            seen = {line: tuple(line[cut:].decode("ascii", "backslashreplace").split()) for line in set(column)}
            flags_column = list(map(seen.__getitem__, column))
            continue
        values = _column(joined, column, prefix, count)
        if values is None:
            return None
        keys.append(key.decode("ascii", "backslashreplace"))
        columns.append(values)
    headers = lines[0::stride]
    if not all(map(_is_header, headers)):
        return None
    shared_keys = tuple(keys)
    rows = zip(*columns) if columns else ((),) * count
    flags_iter = flags_column if flags_column is not None else [()] * count
    parsed = _headers(headers)
    if parsed is None:
        return tuple(
            _mapping(header, shared_keys, row, flags)
            for header, row, flags in zip(headers, rows, flags_iter)
        )
    return tuple(map(Mapping, *parsed, repeat(shared_keys, count), rows, flags_iter))


#: A header as the kernel prints it (show_map_vma, fs/proc/task_mmu.c); any
#: other spacing takes ``_parse_header`` line by line.
_HEADER = re.compile(
    rb"^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) (\S+) ([0-9]+)(?: +([^\s].*?))? *$", re.M
)


def _decoded(raw: tuple[bytes, ...], decode: Callable[[bytes], str]) -> list[str]:
    """Each text decoded once, however many mappings repeat it (65,000 share a few)."""
    table = {value: decode(value) for value in set(raw)}
    return list(map(table.__getitem__, raw))


def _headers(headers: list[bytes]) -> tuple[list[Any], ...] | None:
    """The header fields as columns (start, end, perms, offset, device, inode, path, kind), in one regex pass.

    Every conversion is mapped over a whole column at C speed; None when a
    header does not have the kernel's spacing (the caller parses it alone).
    """
    found = _HEADER.findall(b"\n".join(headers))
    if len(found) != len(headers) or not found:
        return None
    lows, highs, perms_b, offsets, devs_b, inodes, paths_b = zip(*found)
    n = len(found)
    try:
        starts = list(map(int, lows, repeat(16, n)))
        ends = list(map(int, highs, repeat(16, n)))
        offs = list(map(int, offsets, repeat(16, n)))
        nodes = list(map(int, inodes))
        perms = _decoded(perms_b, lambda b: b.decode("ascii"))
        devs = _decoded(devs_b, lambda b: b.decode("ascii"))
        paths = _decoded(paths_b, lambda b: b.decode("utf-8", "backslashreplace").strip(" "))
    except (ValueError, UnicodeDecodeError):
        return None
    if any(map(int.__lt__, ends, starts)):
        return None  # an end before its start: the line-by-line parser refuses it
    kinds_of = {pair: classify(*pair) for pair in set(zip(paths, perms))}
    kinds = list(map(kinds_of.__getitem__, zip(paths, perms)))
    return starts, ends, perms, offs, devs, nodes, paths, kinds


def parse_smaps(raw: bytes, fields: frozenset[str] | None = None) -> tuple[Mapping, ...]:
    """Parse a whole smaps file into mappings.

    ``fields``: keep only these fields (and VmFlags only if named), for a
    quick first look at a process with tens of thousands of mappings; a file
    the column-wise parser cannot take is parsed whole anyway.

    Raises:
        ParseError: when the text is not smaps.
    """
    lines = raw.split(b"\n")
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        return ()
    if not _is_header(lines[0]):
        raise ParseError("smaps: does not start with a mapping header")
    fast = _parse_strided(lines, fields)
    return fast if fast is not None else parse_smaps_general(raw)


class SmapsRaced(Exception):
    """The process exited or was replaced while its smaps was read."""


def read_mappings(proc: Path, pid: int, starttime: int | None = None, fields: frozenset[str] | None = None) -> tuple[Mapping, ...]:
    """Read and parse /proc/PID/smaps of one process.

    A zombie's smaps ends early without an error (feasibility.md §E), so after
    the read the process is checked again: alive, not a zombie, same starttime.

    Raises:
        PermissionError: another user's process without root.
        FileNotFoundError, ProcessLookupError: the process is gone.
        SmapsRaced: it exited or changed during the read; the data is discarded.
        ParseError: the file is not smaps.
    """
    raw = read_file(proc / str(pid) / "smaps", SMAPS_LIMIT)
    try:
        after = parse_stat(read_file(proc / str(pid) / "stat"))
    except (OSError, ParseError):
        raise SmapsRaced(f"pid {pid} exited while its smaps was read") from None
    if after.state in "ZX" or (starttime is not None and after.starttime != starttime):
        raise SmapsRaced(f"pid {pid} exited while its smaps was read")
    return parse_smaps(raw, fields)
