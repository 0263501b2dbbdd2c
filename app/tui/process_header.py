"""The drill-down screen's header: who the process is and its figures, as text.

Pure: from a ProcessMemory and the status lines of one read. Figures come
from status (VmPeak ... HugetlbPages, THP_enabled) and smaps_rollup (PSS, USS,
Pss_*, SwapPss); Documentation/filesystems/proc.rst explains each.
"""

from __future__ import annotations

from rich.text import Text

from memtop.collectors.models import ProcessMemory
from memtop.collectors.process_maps import status_size, status_text
from memtop.views.format import compact, escape

#: status fields shown, with their labels.
STATUS_SIZES = (
    ("VmPeak", "VmPeak"), ("VmSize", "VmSize"), ("VmHWM", "VmHWM"), ("VmRSS", "VmRSS"),
    ("RssAnon", "RssAnon"), ("RssFile", "RssFile"), ("RssShmem", "RssShmem"), ("VmSwap", "VmSwap"),
    ("HugetlbPages", "Hugetlb"),
)
#: smaps_rollup figures of ProcessMemory, with their labels.
ROLLUP = (
    ("pss", "PSS"), ("uss", "USS"), ("pss_anon", "Pss_Anon"), ("pss_file", "Pss_File"),
    ("pss_shmem", "Pss_Shmem"), ("pss_dirty", "Pss_Dirty"), ("swap", "Swap"), ("swap_pss", "SwapPss"),
)


def _pairs(text: Text, title: str, pairs: list[tuple[str, str]]) -> None:
    text.append(f"{title:<7}", style="bold")
    for label, value in pairs:
        text.append(f" {label} ")
        text.append(value, style="bold")
        text.append(" ")
    text.append("\n")


def header_text(p: ProcessMemory, status: tuple[tuple[str, str], ...]) -> tuple[Text, Text, Text]:
    """(who it is, its command line, its figures): the command line gets one line, cut with an ellipsis."""
    ident = Text()
    ident.append(escape(p.name), style="bold")
    ident.append(f"  pid {p.pid}  ppid {p.ppid}  user {p.user or p.uid or '?'}  state {p.state}  threads {p.threads}")
    command = Text(escape(" ".join(p.cmdline)) or f"[{escape(p.name)}]")
    text = Text()
    score = "n/a" if p.oom_score is None else str(p.oom_score)
    adj = "n/a" if p.oom_score_adj is None else str(p.oom_score_adj)
    text.append(f"oom_score {score} (adj {adj})")
    thp = status_text(status, "THP_enabled")
    if thp is not None:
        # THP_enabled: 0 when prctl(PR_SET_THP_DISABLE) turned THP off for it (proc.rst).
        text.append("  THP " + ("allowed" if thp == "1" else "disabled by prctl"))
    text.append(f"  cgroup {escape(p.cgroup) if p.cgroup else 'n/a'}\n")
    if p.error:
        text.append(f"n/a: {escape(p.error)}\n")
    for mark in p.marks:
        text.append(f"! {escape(mark)}\n")
    _pairs(text, "status", [(label, compact(status_size(status, key))) for key, label in STATUS_SIZES])
    _pairs(text, "rollup", [(label, compact(getattr(p, name))) for name, label in ROLLUP])
    text.rstrip()
    return ident, command, text
