"""The process table's columns as plain data: what each is called, how wide, what it means.

One catalogue for everything that names a column: the table draws it, the
setup screen (F2) offers it, the config file and ``--sort`` accept its label
(the name the table shows, issue 18), and help explains it. No textual here:
the command line and the settings read it too.
"""

from __future__ import annotations

from dataclasses import dataclass

from memtop.views.uss import USS_FORMULA, USS_FREES


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int  # 0: takes the rest of the line
    help: str
    right: bool = True
    wide_only: bool = False
    min_width: int = 0  # shown only on tables at least this wide
    #: Other names a person may type for it (--sort, the config file): ASCII forms of the label.
    aliases: tuple[str, ...] = ()


#: Every column of the process table, with the one line of help the help screen
#: shows for it (after Documentation/filesystems/proc.rst).
PROCESS_COLUMNS: tuple[Column, ...] = (
    Column("pid", "PID", 7, "process id"),
    Column("user", "USER", 9, "real user of the process", right=False),
    Column("rss", "RSS", 7, "resident: pages in RAM mapped by it, shared ones counted in full (VmRSS)"),
    Column("pss", "PSS", 7, "proportional: shared pages divided among their users; sums to real use"),
    Column("uss", "USS", 7, f"unique: {USS_FORMULA}, {USS_FREES}"),
    Column("swap", "SWAP", 6, "swapped out (smaps_rollup Swap, else VmSwap)"),
    Column("anon_huge", "THP", 6, "anonymous memory in transparent huge pages (AnonHugePages)"),
    Column("rate", "ΔRSS/s", 7, "change of RSS per second since the last refresh", aliases=("drss/s", "drss", "rate")),
    Column("growth", "GROW/m", 7, "RSS growth per minute: least-squares slope over the chart's window (from 60 s of history)",
           aliases=("grow/min", "grow", "growth")),
    Column("anon", "ANON", 6, "resident anonymous memory (RssAnon)"),
    Column("file", "FILE", 6, "resident file mappings (RssFile)"),
    Column("shmem", "SHMEM", 6, "resident shared memory (RssShmem)"),
    Column("hugetlb", "HUGETLB", 7, "hugetlbfs pages (Shared_ + Private_Hugetlb)"),
    Column("vsize", "VIRT", 7, "virtual size: address space, not memory (VmSize)", aliases=("vsize", "vmsize")),
    Column("heap_gap", "GAP", 7, "RSS - heap in use, where memtop knows the heap (memtop run, memtop.probe, H)",
           aliases=("heap_gap", "heap-gap")),
    Column("oom_score", "OOM", 5, "oom_score: who the OOM killer picks next (higher first)", aliases=("oom_score",)),
    Column("threads", "THR", 4, "threads (Threads of status)", aliases=("threads", "nlwp")),
    Column("cgroup", "CGROUP", 28, "memory cgroup (v1 memory hierarchy, else v2); its end when long", right=False),
    Column("name", "NAME", 15, "program name (comm)", right=False),
    Column("command", "COMMAND", 0, "command line; an interpreter's path is cut so the script's name stays",
           right=False, aliases=("cmdline", "cmd")),
)

BY_KEY: dict[str, Column] = {c.key: c for c in PROCESS_COLUMNS}

#: What a new user sees: the memory figures first, the command line taking the rest.
#: Columns that do not fit are left out from the end of this list (the command keeps its room).
DEFAULT_COLUMNS: tuple[str, ...] = (
    "pid", "user", "rss", "pss", "uss", "swap", "anon_huge", "rate",
    "anon", "file", "shmem", "hugetlb", "oom_score", "cgroup", "command",
)

#: The command line keeps at least this many cells before optional columns are shown.
FLEX_MIN = 28

#: Memory figures read from smaps_rollup: dimmed and marked "~" when old.
ROLLUP_COLUMNS = frozenset({"pss", "uss", "anon_huge"})

#: Columns whose values are not fields of a process record but derived over time by the app.
DERIVED = frozenset({"rate", "growth", "heap_gap"})


def _fold(name: str) -> str:
    return name.strip().casefold().replace("δ", "d").replace("_", "-")


def column_named(name: str) -> Column | None:
    """The column a person means by ``name``: its label as the table shows it (case-insensitive),
    an ASCII form of it (``drss/s`` for ``ΔRSS/s``), or its key (the JSON field name)."""
    wanted = _fold(name)
    for column in PROCESS_COLUMNS:
        names = (column.label, column.key, *column.aliases)
        if any(_fold(n) == wanted for n in names):
            return column
    return None


def labels(keys: tuple[str, ...] | None = None) -> str:
    """The table's names of these columns (default: all), for messages."""
    return ", ".join(BY_KEY[k].label for k in (keys or tuple(BY_KEY)))


def fit(chosen: tuple[str, ...], width: int) -> list[tuple[Column, int]]:
    """The chosen columns that fit ``width`` cells, in order, with their widths.

    Fixed columns are kept in the chosen order while the flexible one (the
    command, else the last left-aligned column) keeps ``FLEX_MIN`` cells; the
    rest are left out from the end, so the first columns are what a narrow
    terminal keeps.
    """
    columns = [BY_KEY[k] for k in chosen if k in BY_KEY]
    if not columns:
        columns = [BY_KEY[k] for k in DEFAULT_COLUMNS]
    flex = next((c for c in columns if c.width == 0), None)
    if flex is None:
        flex = next((c for c in reversed(columns) if not c.right), None)
    budget = width - (FLEX_MIN if flex is not None else 0)
    kept: list[Column] = []
    used = 0
    for column in columns:
        if column is flex:
            kept.append(column)
            continue
        need = column.width + 1
        if used + need <= budget or not kept:
            kept.append(column)
            used += need
        else:
            budget = -1  # keep the order: once one is left out, the ones after it are too
    # Each fixed column counted its separator; the flexible one takes what is left.
    return [(c, c.width if c is not flex else max(width - used, 4)) for c in kept]
