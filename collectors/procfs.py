"""Pure parsers of per-process /proc files (Documentation/filesystems/proc.rst).

They take the bytes the kernel gave and return values or raise ParseError;
nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ParseError

KIB = 1024


def _int(digits: bytes) -> int:
    """int() of checked ASCII digits; Python refuses over 4,300 digits (CVE-2020-10735)."""
    try:
        return int(digits)
    except ValueError:
        raise ParseError(f"number too long: {digits[:20]!r}...") from None

#: stat field 9 bit: the task is a kernel thread (include/linux/sched.h).
PF_KTHREAD = 0x00200000


@dataclass(frozen=True, slots=True)
class Stat:
    """The fields of /proc/PID/stat memtop uses."""

    pid: int
    name: str
    state: str
    ppid: int
    flags: int
    threads: int
    starttime: int

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
    rest = raw[close_at + 1 :].split()
    # After comm: state(3) ppid(4) ... flags(9) ... num_threads(20) ... starttime(22).
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
        )
    except (ValueError, UnicodeDecodeError):
        raise ParseError("stat: malformed numeric field") from None


@dataclass(frozen=True, slots=True)
class Status:
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


def parse_status(raw: bytes) -> Status:
    """Parse /proc/PID/status; Vm*/Rss* lines are absent for kernel threads and zombies.

    Raises:
        ParseError: on a present but malformed field.
    """
    text = b"\n" + raw  # every key, the first included, then follows a newline
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


def parse_kb_fields(raw: bytes) -> dict[str, int]:
    """Sum every ``Key: N kB`` line, in bytes.

    For smaps_rollup this is the rollup itself; for smaps (kernels before 4.14
    have no rollup) it sums the fields over all mappings. Other lines (the
    address header, THPeligible, VmFlags) are skipped.

    Raises:
        ParseError: on a kB line whose number is not an integer.
    """
    out: dict[bytes, int] = {}
    for line in raw.split(b"\n"):
        if line.endswith(b" kB"):
            key, sep, value = line.partition(b":")
            if sep and b" " in key:
                continue  # a mapping header (its device has a colon) whose path ends in " kB"
            number = value[:-3].strip()
            if not sep or not number.isdigit():
                raise ParseError(f"smaps: malformed line {line[:60]!r}")
            out[key] = out.get(key, 0) + _int(number) * KIB
    return {k.decode("ascii", "backslashreplace"): v for k, v in out.items()}


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
