"""How a sample is stored: documents and figures as differences, compressed (issue 15's size goal).

A document (codec.py) is stored whole in a key frame, else as the values that changed, the keys
gone, and for a number that was a number, its difference: counters and sizes move by little, so
a few digits instead of eleven. zlib compresses each with a preset dictionary of the keys every
sample repeats. A process's figures are whole in a key frame and in its first entry, else the
changes; all the processes of a sample go in one compressed blob.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from memtop.history.codec import FIGURES, Doc


_VM_NAMES = (
    "allocstall_movable allocstall_normal compact_daemon_free_scanned compact_daemon_migrate_scanned "
    "compact_daemon_wake compact_fail compact_free_scanned compact_isolated compact_migrate_scanned compact_stall "
    "compact_success oom_kill pgpgin pgpgout pgscan_anon pgscan_file pgsteal_anon pgsteal_file pgscan_direct "
    "pgscan_kswapd pgscan_khugepaged pgsteal_direct pgsteal_kswapd pgsteal_khugepaged pswpin pswpout "
    "thp_collapse_alloc thp_collapse_alloc_failed thp_fault_alloc thp_fault_fallback thp_fault_fallback_charge "
    "thp_split_page thp_split_pmd thp_deferred_split_page thp_zero_page_alloc workingset_activate_anon "
    "workingset_activate_file workingset_nodereclaim workingset_nodes workingset_refault_anon "
    "workingset_refault_file workingset_restore_anon workingset_restore_file pgfault pgmajfault"
).split()
_MEMINFO_NAMES = (
    "DirectMap1G DirectMap2M DirectMap4k Hugetlb Hugepagesize HardwareCorrupted VmallocChunk VmallocTotal "
    "VmallocUsed Percpu CommitLimit Committed_AS WritebackTmp Bounce NFS_Unstable FileHugePages FilePmdMapped "
    "ShmemHugePages ShmemPmdMapped AnonHugePages SecPageTables PageTables KernelStack SUnreclaim SReclaimable "
    "Slab KReclaimable Shmem Mapped AnonPages Writeback Dirty Zswapped Zswap SwapFree SwapTotal SwapCached "
    "Mlocked Unevictable Inactive(file) Active(file) Inactive(anon) Active(anon) Inactive Active Buffers Cached "
    "MemAvailable MemFree MemTotal"
).split()
#: zlib's preset dictionary for the documents: the keys every sample repeats, the most frequent last
#: (nearest). Fixed for schema 1: a file is read with the dictionary it was written with.
ZDICT = ("".join(f'"vm:{n}":' for n in _VM_NAMES) + "".join(f'"sysk:{n}":' for n in _MEMINFO_NAMES)).encode()


def _compress(raw: bytes) -> bytes:
    packer = zlib.compressobj(6, zdict=ZDICT)
    return packer.compress(raw) + packer.flush()


def _decompress(blob: bytes) -> bytes:
    unpacker = zlib.decompressobj(zdict=ZDICT)
    return unpacker.decompress(blob) + unpacker.flush()


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def pack_doc(before: Doc | None, after: Doc) -> bytes:
    """A sample's document as stored: whole (``before`` None: a key frame), else what changed.

    ``[values, gone, deltas]``: new or changed values, keys gone, and for a number that was a
    number before, the difference (counters and sizes move by little: a few digits, not eleven).
    """
    if before is None:
        body: list[Any] = [after, [], {}]
    else:
        values: Doc = {}
        deltas: dict[str, int] = {}
        for k, v in after.items():
            old = before.get(k, _MISSING)
            if old is _MISSING or old != v:
                if _int(v) and _int(old):
                    deltas[k] = v - old
                else:
                    values[k] = v
        body = [values, [k for k in before if k not in after], deltas]
    return _compress(json.dumps(body, separators=(",", ":")).encode())


def apply_doc(doc: Doc, blob: bytes) -> Doc:
    """``doc`` after a stored sample (in place); returns the values it set whole (heaps, cgroups...)."""
    values, gone, deltas = json.loads(_decompress(blob))
    for k in gone:
        doc.pop(k, None)
    doc.update(values)
    for k, d in deltas.items():
        doc[k] = doc[k] + d
    return values


_MISSING = object()


def pack_figures(before: tuple[Any, ...] | None, after: tuple[Any, ...]) -> Any:
    """A process's figures as stored: whole (a list), or the changes (``{"d": [...]}``): for a number
    that was a number, its index and difference; for anything else, its index's complement (~i) and value."""
    if before is None:
        return list(after)
    out: list[Any] = []
    for i, (a, v) in enumerate(zip(before, after)):
        if a != v:
            out.extend((i, v - a) if _int(a) and _int(v) else (~i, v))
    return {"d": out}


def apply_figures(before: list[Any] | None, data: Any) -> list[Any]:
    """A process's figures after a stored entry (pack_figures)."""
    if isinstance(data, list):
        if len(data) != len(FIGURES):
            raise ValueError(f"a figures row of {len(data)} values")
        return data
    if before is None:
        raise ValueError("a change without the figures it changes")
    row = list(before)
    pairs = data["d"]
    for i, v in zip(pairs[::2], pairs[1::2]):
        if i >= 0:
            row[i] = row[i] + v
        else:
            row[~i] = v
    return row


def pack_sample_figures(entries: list[tuple[int, Any]]) -> bytes:
    """The figures a sample writes, all its processes in one compressed blob: ``[[procs id, entry], ...]``.

    One blob, not a row per process: zlib finds what the rows share (a new process's row looks like
    the others), and SQLite's per-row cost is paid once per sample.
    """
    return zlib.compress(json.dumps(entries, separators=(",", ":")).encode(), 6)


def unpack_sample_figures(blob: bytes | None) -> list[tuple[int, Any]]:
    if not blob:
        return []
    return [(int(pid_id), entry) for pid_id, entry in json.loads(zlib.decompress(blob))]
