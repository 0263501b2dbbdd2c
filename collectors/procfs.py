"""Pure parsers of per-process /proc files (Documentation/filesystems/proc.rst).

They take the bytes the kernel gave and return values or raise ParseError;
nothing here does I/O.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from .errors import ParseError
from .fs import read_record

KIB = 1024


def _int(digits: bytes) -> int:
    """int() of checked ASCII digits; Python refuses over 4,300 digits (CVE-2020-10735)."""
    try:
        return int(digits)
    except ValueError:
        raise ParseError(f"number too long: {digits[:20]!r}...") from None

#: stat field 9 bit: the task is a kernel thread (include/linux/sched.h).
PF_KTHREAD = 0x00200000


class Stat(NamedTuple):
    """The fields of /proc/PID/stat memtop uses (a parse result, not a snapshot type)."""

    pid: int
    name: str
    state: str
    ppid: int
    flags: int
    threads: int
    starttime: int
    faults: int = 0  # minflt + majflt: moves whenever the process touches new memory
    rss_pages: int = 0  # resident pages (per-CPU counters: approximate, but cheap)

    @property
    def kernel_thread(self) -> bool:
        return bool(self.flags & PF_KTHREAD)


def parse_stat(raw: bytes) -> Stat:
    """Parse /proc/PID/stat.

    comm sits between the first "(" and the *last* ")": a comm may hold
    spaces, ")" and even a newline, so the file is never split by lines or
    spaces before that (feasibility.md §E).

    Raises:
        ParseError: when the text is not a stat line.
    """
    open_at = raw.find(b"(")
    close_at = raw.rfind(b")")
    if open_at < 0 or close_at < open_at:
        raise ParseError("stat: no '(comm)' field")
    rest = raw[close_at + 1 :].split(None, 22)  # fields up to rss; the rest unsplit
    # After comm: state(3) ppid(4) ... flags(9) minflt(10) majflt(12) ...
    # num_threads(20) ... starttime(22) vsize(23) rss(24); proc.rst, Table 1-4.
    if len(rest) < 20:
        raise ParseError("stat: too few fields after comm")
    try:
        state = rest[0].decode("ascii")
        if len(state) != 1 or not state.isalpha():
            raise ValueError(state)
        return Stat(
            pid=int(raw[:open_at]),
            name=raw[open_at + 1 : close_at].decode("utf-8", "backslashreplace"),
            state=state,
            ppid=int(rest[1]),
            flags=int(rest[6]),
            threads=int(rest[17]),
            starttime=int(rest[19]),
            faults=int(rest[7]) + int(rest[9]) if len(rest) > 21 else 0,
            rss_pages=int(rest[21]) if len(rest) > 21 else 0,
        )
    except (ValueError, UnicodeDecodeError):
        raise ParseError("stat: malformed numeric field") from None


class Status(NamedTuple):
    """The fields of /proc/PID/status memtop uses; sizes in bytes, None when absent."""

    uid: int | None
    kthread: bool
    vsize: int | None
    rss: int | None
    anon: int | None
    file: int | None
    shmem: int | None
    swap: int | None
    hwm: int | None
    hugetlb: int | None


def _status_value(raw: bytes, key: bytes) -> bytes | None:
    at = raw.find(b"\n" + key + b":")
    if at < 0:
        return None
    start = at + len(key) + 2
    end = raw.find(b"\n", start)
    return raw[start:] if end < 0 else raw[start:end]


def _status_kb(raw: bytes, key: bytes) -> int | None:
    value = _status_value(raw, key)
    if value is None:
        return None
    words = value.split()
    if len(words) != 2 or words[1] != b"kB" or not words[0].isdigit():
        raise ParseError(f"status: malformed {key.decode()} line")
    return _int(words[0]) * KIB


_STATUS_TOKENS = (
    b"VmSize:", b"VmRSS:", b"RssAnon:", b"RssFile:", b"RssShmem:", b"VmSwap:", b"VmHWM:", b"HugetlbPages:",
)


def parse_status(raw: bytes) -> Status:
    """Parse /proc/PID/status; Vm*/Rss* lines are absent for kernel threads and zombies.

    The size lines stand together from VmPeak to HugetlbPages (fs/proc/
    task_mmu.c, task_mem()), so that block is split into ``Key: N kB``
    triples in one pass; any other layout takes the strict parser.

    Raises:
        ParseError: on a present but malformed field.
    """
    start = raw.find(b"\nVmPeak:")  # never the first line: Name is
    end_key = raw.find(b"\nHugetlbPages:", start)
    if start < 0 or end_key < 0:
        return _parse_status_strict(b"\n" + raw)
    end = raw.find(b"\n", end_key + 1)
    tokens = raw[start : end if end >= 0 else len(raw)].split()
    units = tokens[2::3]
    values = tokens[1::3]
    if len(tokens) % 3 or units.count(b"kB") != len(units) or not b"".join(values).isdigit():
        return _parse_status_strict(b"\n" + raw)
    sizes = dict(zip(tokens[0::3], values))
    uid_line = _status_value(raw, b"Uid")
    uid_word = uid_line.split(None, 1)[0] if uid_line else b""
    if len(sizes) != len(units) or not uid_word.isdigit():
        return _parse_status_strict(b"\n" + raw)
    kthread = _status_value(raw, b"Kthread")
    try:
        size = {k: int(sizes[k]) * KIB if k in sizes else None for k in _STATUS_TOKENS}
        uid = int(uid_word)
    except ValueError:  # over 4,300 digits
        return _parse_status_strict(b"\n" + raw)
    return Status(
        uid=uid,
        kthread=kthread is not None and kthread.strip() == b"1",
        vsize=size[b"VmSize:"], rss=size[b"VmRSS:"], anon=size[b"RssAnon:"], file=size[b"RssFile:"],
        shmem=size[b"RssShmem:"], swap=size[b"VmSwap:"], hwm=size[b"VmHWM:"], hugetlb=size[b"HugetlbPages:"],
    )


def _parse_status_strict(text: bytes) -> Status:
    uid_line = _status_value(text, b"Uid")
    uid: int | None = None
    if uid_line is not None:
        words = uid_line.split()
        if not words or not words[0].isdigit():
            raise ParseError("status: malformed Uid line")
        uid = _int(words[0])
    kthread = _status_value(text, b"Kthread")
    return Status(
        uid=uid,
        kthread=kthread is not None and kthread.strip() == b"1",
        vsize=_status_kb(text, b"VmSize"),
        rss=_status_kb(text, b"VmRSS"),
        anon=_status_kb(text, b"RssAnon"),
        file=_status_kb(text, b"RssFile"),
        shmem=_status_kb(text, b"RssShmem"),
        swap=_status_kb(text, b"VmSwap"),
        hwm=_status_kb(text, b"VmHWM"),
        hugetlb=_status_kb(text, b"HugetlbPages"),
    )


_KB_LINE = re.compile(rb"^(\w+):[ \t]+(\d{1,30}) kB$", re.M)


def rollup_raw(raw: bytes) -> dict[bytes, bytes] | None:
    """smaps_rollup as {b"Key:": b"digits"} (kB), or None when the layout is anything else.

    The file is a 6-token header line, then one ``Key: N kB`` line per field.
    This is the cheapest exact parse of the file read once per process per
    refresh (every check is one C-level pass); numbers are converted by the
    caller, only those it needs.
    """
    tokens = raw.split()
    if len(tokens) < 9 or tokens[5] != b"[rollup]" or (len(tokens) - 6) % 3:
        return None
    keys, values, units = tokens[6::3], tokens[7::3], tokens[8::3]
    # Every key ends with ":" (so ": " occurs once per key), every unit is kB.
    if units.count(b"kB") != len(units) or (b" ".join(keys) + b" ").count(b": ") != len(keys):
        return None
    # One line per key after the header line: nothing joined, nothing split.
    if raw.count(b"\n") + (not raw.endswith(b"\n")) != len(keys) + 1:
        return None
    if not b"".join(values).isdigit() or max(map(len, values)) > 30:
        return None
    out = dict(zip(keys, values))
    return out if len(out) == len(keys) else None  # a repeated key: let the summing parser do it


def kb_fields(raw: bytes) -> dict[bytes, int]:
    """``Key: N kB`` lines summed per key, in kB, keys as bytes (the hot path).

    A rollup takes the token path; anything else one regex pass. When that
    did not account for every line ending in " kB" (a malformed line, or a
    header whose path ends so), the strict line-by-line parser decides.
    """
    fast = rollup_raw(raw)
    if fast is not None:
        return {k[:-1]: int(v) for k, v in fast.items()}
    found = _KB_LINE.findall(raw)
    kb_lines = raw.count(b" kB\n") + raw.endswith(b" kB")
    if len(found) != kb_lines:
        return _kb_fields_strict(raw)
    out: dict[bytes, int] = {}
    for key, number in found:
        out[key] = out.get(key, 0) + int(number)
    return out


def _kb_fields_strict(raw: bytes) -> dict[bytes, int]:
    out: dict[bytes, int] = {}
    for line in raw.split(b"\n"):
        if line.endswith(b" kB"):
            key, sep, value = line.partition(b":")
            if sep and b" " in key:
                continue  # a mapping header (its device has a colon) whose path ends in " kB"
            number = value[:-3].strip()
            if not sep or not number.isdigit():
                raise ParseError(f"smaps: malformed line {line[:60]!r}")
            out[key] = out.get(key, 0) + _int(number)
    return out


def parse_kb_fields(raw: bytes) -> dict[str, int]:
    """Sum every ``Key: N kB`` line, in bytes.

    For smaps_rollup this is the rollup itself; for smaps (kernels before 4.14
    have no rollup) it sums the fields over all mappings. Other lines (the
    address header, THPeligible, VmFlags) are skipped.

    Raises:
        ParseError: on a kB line whose number is not an integer.
    """
    return {k.decode("ascii", "backslashreplace"): v * KIB for k, v in kb_fields(raw).items()}


def parse_cmdline(raw: bytes) -> tuple[str, ...]:
    """Split /proc/PID/cmdline on NUL.

    Trailing NULs are dropped: programs that rewrite their argv in place pad it
    with NULs. A program that writes a space-separated title (``nginx: worker
    process``) gives one element.
    """
    parts = raw.split(b"\0")
    while parts and not parts[-1]:
        parts.pop()
    return tuple(p.decode("utf-8", "backslashreplace") for p in parts)


def parse_int(raw: bytes) -> int:
    """A file holding one integer (oom_score, oom_score_adj, min_free_kbytes)."""
    value = raw.strip()
    digits = value[1:] if value.startswith(b"-") else value
    if not digits.isdigit():
        raise ParseError(f"expected an integer, got {raw[:40]!r}")
    return _int(digits) * (-1 if value.startswith(b"-") else 1)


def parse_cgroup(text: str) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """Parse /proc/PID/cgroup lines ``hierarchy-ID:controller-list:path``.

    Returns (id, controllers, path) triples; cgroup v2's line is ``0::/path``
    with no controllers. A path may contain ":" (only the first two split).

    Raises:
        ParseError: on a line without two colons.
    """
    out: list[tuple[str, tuple[str, ...], str]] = []
    for line in text.splitlines():
        if not line:
            continue
        parts = line.split(":", 2)
        if len(parts) != 3:
            raise ParseError(f"cgroup: malformed line {line[:60]!r}")
        hid, controllers, path = parts
        out.append((hid, tuple(c for c in controllers.split(",") if c), path))
    return tuple(out)


def memory_cgroup(lines: tuple[tuple[str, tuple[str, ...], str], ...]) -> tuple[int, str] | None:
    """The (version, path) of the hierarchy that carries the memory controller.

    On hybrid hosts (this project's machine among them) cgroup v2 is mounted
    without controllers while memory is a v1 hierarchy: the v1 ``memory`` line
    wins whenever present. Otherwise the v2 ``0::`` line is the one.
    """
    for _hid, controllers, path in lines:
        if "memory" in controllers:
            return (1, path)
    for hid, controllers, path in lines:
        if hid == "0" and not controllers:
            return (2, path)
    return None


def parse_statm(raw: bytes, page_size: int) -> tuple[int, int]:
    """RSS and RssAnon in bytes from /proc/PID/statm (proc.rst: size resident shared text lib data dt).

    ``shared`` counts resident file and shmem pages (RssFile + RssShmem), so
    resident minus shared is RssAnon: the same split status gives, from one
    small read that is cheap enough for 10 Hz.
    """
    fields = raw.split()
    if len(fields) < 3:
        raise ParseError(f"statm: {len(fields)} fields, expected 7")
    try:
        resident, shared = int(fields[1]), int(fields[2])
    except ValueError:
        raise ParseError("statm: a field is not a number") from None
    return resident * page_size, max(resident - shared, 0) * page_size


def read_statm(proc: Path, pid: int, page_size: int) -> tuple[int, int] | None:
    """RSS and RssAnon of one process now, None when it has gone or statm is unreadable."""
    try:
        return parse_statm(read_record(None, str(proc / str(pid) / "statm")), page_size)
    except (OSError, ParseError):
        return None
