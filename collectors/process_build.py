"""Phase two of a process pass: the bytes of one process's files into a ProcessMemory.

Pure: no I/O. The reasons for missing figures come from phase one (``why``)
or from a parser that refused a file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from .errors import ParseError
from .fs import decode
from .models import ProcessMemory
from .procfs import KIB, kb_fields, memory_cgroup, parse_cgroup, parse_cmdline, parse_int, parse_status, rollup_raw
from .raw_process import RawProcess

KTHREAD = "kernel thread: no user address space"
ZOMBIE = "zombie: exited, memory already released"
DENIED = "permission denied: needs root or the same user"
#: In the reason when even root was refused (pid 1 in a sandbox, a process in another user namespace).
ROOT_REFUSED = "refused even to root"

#: Lines every smaps_rollup has had since 4.14 (fs/proc/task_mmu.c, __show_smap):
#: Locked is the last, so a file without it was cut short.
_ROLLUP_NEEDS = (b"Rss:", b"Pss:", b"Private_Clean:", b"Private_Dirty:", b"Swap:", b"Locked:")
_KB_KEY = re.compile(rb"^(\w+):[ \t]+\d+ kB$", re.M)

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


def _checked(f: dict[bytes, bytes] | dict[bytes, int]) -> dict[str, int | None]:
    """Rollup fields that one read of the kernel could have given, or ParseError.

    All of a rollup is summed under one lock, so within it USS <= PSS <= RSS
    always; a file that says otherwise was not written by the kernel.
    """
    out = rollup_fields(f)
    rss = f.get(b"Rss:")
    pss, uss = out.get("pss"), out.get("uss")
    if pss is not None and rss is not None and pss > int(rss) * KIB:
        raise ParseError("Pss above its own Rss: not as the kernel writes it")
    if pss is not None and uss is not None and uss > pss:
        raise ParseError("Private_Clean + Private_Dirty above Pss: not as the kernel writes it")
    return out


def memory_fields(raw: bytes) -> dict[str, int | None]:
    """smaps_rollup, or a whole smaps summed (kernels before 4.14), as ProcessMemory fields.

    A rollup cut short, empty, binary or with a line twice is refused with
    the reason rather than turned into small plausible figures (issue 13,
    item 9); a summed smaps needs at least one mapping's Rss and Pss.

    Raises:
        ParseError: why the file gives no figures.
    """
    fast = rollup_raw(raw)
    if fast is not None:
        missing = [k for k in _ROLLUP_NEEDS if k not in fast]
        if missing:
            raise ParseError(f"cut short or incomplete: no {missing[-1].decode()} line")
        return _checked(fast)
    if not raw.strip():
        raise ParseError("empty file")
    header = raw.split(b"\n", 1)[0]
    summed = {key + b":": value for key, value in kb_fields(raw).items()}
    if header.rstrip().endswith(b"[rollup]"):
        keys = _KB_KEY.findall(raw)
        if len(set(keys)) != len(keys):
            twice = next(k for k in keys if keys.count(k) > 1)
            raise ParseError(f"{twice.decode('ascii', 'replace')} given twice: not as the kernel writes it")
        missing = [k for k in _ROLLUP_NEEDS if k not in summed]
        if missing:
            raise ParseError(f"cut short or incomplete: no {missing[-1].decode()} line")
    elif b"Rss:" not in summed or b"Pss:" not in summed:
        raise ParseError("no Rss and Pss lines: neither smaps_rollup nor smaps")
    return _checked(summed)


#: The command line of a process is parsed once per distinct text: the workers of
#: a pool (php-fpm, postgres, a fork server) share one tuple instead of holding
#: a copy each (5,000 forked workers held 2.7 MiB of equal tuples; issue 17).
_shared_cmdline = functools.lru_cache(maxsize=1024)(parse_cmdline)


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
        "cmdline": _shared_cmdline(raw.cmdline) if raw.cmdline else (), "uid": None, "user": None,
        "state": stat.state, "threads": stat.threads, "kernel_thread": stat.kernel_thread,
        "oom_score": _int_or_none(raw.oom_score), "oom_score_adj": _int_or_none(raw.oom_score_adj),
        "cgroup": None if raw.cgroup is None else cgroups.path(raw.cgroup),
        "faults": stat.faults,
    }
    if raw.status is not None:
        try:
            st = parse_status(raw.status)
            # The kernel always writes Uid (fs/proc/array.c): without it this is
            # not a status file, and its absent sizes are not "none" (issue 13, item 9).
            if st.uid is None:
                raise ParseError("status: empty file" if not raw.status.strip() else "status: no Uid line: not a status file")
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
        if raw.status is None and raw.status_why:
            errors.append(raw.status_why)  # RSS and the status sizes n/a: say why (issue 13, item 9)
        if raw.why:
            errors.append(raw.why)
            if raw.why == DENIED or ROOT_REFUSED in raw.why:
                # Swap is smaps_rollup's figure: refused with it, n/a as PSS and USS
                # are (README), not status's VmSwap passed off as the same column.
                fields["swap"] = None
        if raw.memory is not None:
            try:
                fields.update(memory_fields(raw.memory))
                fields["memory_time"] = now
            except ParseError as exc:
                errors.append(f"smaps_rollup: {exc}")
        pss, rss = fields.get("pss"), fields.get("rss")
        if isinstance(pss, int) and isinstance(rss, int) and pss > rss:
            # status and smaps_rollup are two reads: a process growing between them
            # shows PSS above RSS. Shown as read, with a mark (issue 13, item 9).
            fields["marks"] = (f"PSS {pss // KIB} kB above RSS {rss // KIB} kB: status and smaps_rollup "
                               "were read at two moments while the process grew",)
    if errors:
        fields["error"] = "; ".join(errors)
    return ProcessMemory(**fields)  # type: ignore[arg-type]
