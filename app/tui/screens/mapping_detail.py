"""Enter on a mapping, a path or a kind: every smaps field, each explained in one line."""

from __future__ import annotations

from collections import Counter

from rich.text import Text
from textual.binding import Binding

from memtop.collectors.models import Mapping
from memtop.views.format import escape, human

from memtop.tables.mapping_rows import MapRow
from memtop.explain.smaps_fields import UNITLESS, decode_vmflags, field_help
from memtop.tui.screens.frames import TextScreen

PAGE_SIZES = frozenset({"KernelPageSize", "MMUPageSize"})


def _fields(members: tuple[Mapping, ...]) -> list[tuple[str, str]]:
    """Each field in the kernel's order: a size summed over the mappings, a flag counted."""
    order: dict[str, None] = {}
    sums: Counter[str] = Counter()
    for m in members:
        for key, value in m.fields:
            order.setdefault(key, None)
            sums[key] += value
    out = []
    for key in order:
        if key in PAGE_SIZES:  # a property of each mapping, not an amount: never summed
            sizes = sorted({v for m in members if (v := m.get(key)) is not None})
            out.append((key, " / ".join(human(v) for v in sizes)))
        elif key in UNITLESS:
            if len(members) == 1:
                out.append((key, str(sums[key])))
            else:
                ones = sum(1 for m in members if m.get(key) == 1) if key == "THPeligible" else None
                out.append((key, f"{ones} of {len(members)} mappings" if ones is not None else "varies"))
        else:
            out.append((key, human(sums[key])))
    return out


def detail_text(row: MapRow) -> Text:
    members = row.members
    text = Text()
    text.append(escape(row.label), style="bold")
    text.append(f"   kind {row.kind}   {len(members)} mapping{'s' if len(members) != 1 else ''}\n")
    if len(members) == 1:
        m = members[0]
        text.append(f"{m.start:x}-{m.end:x}  perms {m.perms}  offset {m.offset:x}  device {m.device}  inode {m.inode}\n")
    text.append("\n")
    for key, shown in _fields(members):
        text.append(f"  {key:<16}", style="bold")
        text.append(f"{shown:>12}  ")
        text.append(field_help(key), style="italic")
        text.append("\n")
    text.append("\nVmFlags", style="bold")
    if len(members) == 1:
        text.append(f"  {' '.join(members[0].vmflags) or '(none printed)'}\n")
        for code, meaning in decode_vmflags(members[0].vmflags):
            text.append(f"  {code}  {meaning}\n")
    else:
        counts: Counter[str] = Counter(code for m in members for code in m.vmflags)
        text.append(f"  (how many of the {len(members)} mappings have each)\n")
        for code, meaning in decode_vmflags(counts):
            text.append(f"  {code}  {meaning}  ({counts[code]} of {len(members)})\n")
    if len(members) > 1:
        text.append("\nSizes are summed over the mappings.", style="italic")
    text.append("\nAfter the smaps section of Documentation/filesystems/proc.rst.", style="italic")
    return text


class MappingDetailScreen(TextScreen):
    """All smaps fields of a row, and its VmFlags in words."""

    BOX = "mapping-detail"
    BINDINGS = [Binding("escape,enter,backspace,q", "app.pop_screen", "Close", tooltip="Back to the mappings")]

    def __init__(self, row: MapRow) -> None:
        super().__init__()
        self.row = row

    def body(self) -> Text:
        return detail_text(self.row)
