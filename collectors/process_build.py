"""Phase two of a process pass: the bytes of one process's files into a ProcessMemory.

Pure: no I/O. The reasons for missing figures come from phase one (``why``)
or from a parser that refused a file.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import ParseError
from .fs import decode
from .models import ProcessMemory
from .procfs import KIB, kb_fields, memory_cgroup, parse_cgroup, parse_cmdline, parse_int, parse_status, rollup_raw
from .raw_process import RawProcess

KTHREAD = "kernel thread: no user address space"
ZOMBIE = "zombie: exited, memory already released"

_ROLLUP_KEYS = (
    ("pss", b"Pss:"), ("swap_pss", b"SwapPss:"), ("pss_anon", b"Pss_Anon:"), ("pss_file", b"Pss_File:"),
    ("pss_shmem", b"Pss_Shmem:"), ("pss_dirty", b"Pss_Dirty:"), ("anon_huge", b"AnonHugePages:"),
    ("referenced", b"Referenced:"), ("locked", b"Locked:"),
)


class CgroupCache(dict[bytes, "str | None"]):
    """Most processes share a handful of /proc/PID/cgroup texts: parse each once."""

    def path(self, raw: bytes) -> str | None:
        if raw not in self:
            if len(self) > 4096:
                self.clear()
            try:
                found = memory_cgroup(parse_cgroup(decode(raw)))
            except ParseError:
                found = None
            self[raw] = None if found is None else found[1]
        return self[raw]


def rollup_fields(f: dict[bytes, bytes] | dict[bytes, int]) -> dict[str, int | None]:
    """Rollup fields ({b"Key:": kB}) to ProcessMemory fields in bytes.

    Keys an older kernel lacks stay None (Pss_Anon and friends arrived in
    5.8, Pss_Dirty in 6.0; Documentation/filesystems/proc.rst).
    """
    get = f.get
    out: dict[str, int | None] = {
        name: None if (value := get(key)) is None else int(value) * KIB for name, key in _ROLLUP_KEYS  # type: ignore[call-overload]
    }
    if b"Private_Clean:" in f or b"Private_Dirty:" in f:
        out["uss"] = (int(get(b"Private_Clean:", 0)) + int(get(b"Private_Dirty:", 0))) * KIB  # type: ignore[call-overload]
    if b"Shared_Hugetlb:" in f or b"Private_Hugetlb:" in f:
        out["hugetlb"] = (int(get(b"Shared_Hugetlb:", 0)) + int(get(b"Private_Hugetlb:", 0))) * KIB  # type: ignore[call-overload]
    if b"Swap:" in f:
        out["swap"] = int(f[b"Swap:"]) * KIB  # rollup Swap; VmSwap of status otherwise
    return out


def memory_fields(raw: bytes) -> dict[str, int | None]:
    """smaps_rollup, or a whole smaps summed (kernels before 4.14), as ProcessMemory fields."""
    fast = rollup_raw(raw)
    if fast is not None:
        return rollup_fields(fast)
    return rollup_fields({key + b":": value for key, value in kb_fields(raw).items()})


def _int_or_none(raw: bytes | None) -> int | None:
    if raw is None:
        return None
    try:
        return parse_int(raw)
    except ParseError:
        return None


def build_process(
    raw: RawProcess, users: Callable[[int], str | None], cgroups: CgroupCache, now: float | None = None
) -> ProcessMemory:
    stat = raw.stat
    errors: list[str] = []
    fields: dict[str, object] = {
        "pid": raw.pid, "ppid": stat.ppid, "starttime": stat.starttime, "name": stat.name,
        "cmdline": parse_cmdline(raw.cmdline) if raw.cmdline else (), "uid": None, "user": None,
        "state": stat.state, "threads": stat.threads, "kernel_thread": stat.kernel_thread,
        "oom_score": _int_or_none(raw.oom_score), "oom_score_adj": _int_or_none(raw.oom_score_adj),
        "cgroup": None if raw.cgroup is None else cgroups.path(raw.cgroup),
        "faults": stat.faults,
    }
    if raw.status is not None:
        try:
            st = parse_status(raw.status)
        except ParseError as exc:
            errors.append(str(exc))
        else:
            fields.update(st._asdict())
            del fields["kthread"]
            fields["kernel_thread"] = stat.kernel_thread or st.kthread
            fields["user"] = None if st.uid is None else users(st.uid)
    if fields["kernel_thread"]:
        errors.append(KTHREAD)
    elif stat.state in "ZX":
        errors.append(ZOMBIE)
    else:
        if raw.why:
            errors.append(raw.why)
        if raw.memory is not None:
            try:
                fields.update(memory_fields(raw.memory))
                fields["memory_time"] = now
            except ParseError as exc:
                errors.append(f"smaps_rollup: {exc}")
    if errors:
        fields["error"] = "; ".join(errors)
    return ProcessMemory(**fields)  # type: ignore[arg-type]
