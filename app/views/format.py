"""Formatting of sizes and names, shared by the widgets and the text report.

One unit convention everywhere (issue 18): binary units, said as such. The
panes and reports write ``1.5 GiB``; a table cell, where every character
counts, writes the same figure as ``1.5Gi``. Both move to the next unit at
1000 of one (never ``1000K``), so a figure reads the same in a cell and in a
sentence. Pure functions, no textual import: ``memtop --once`` uses them too.
"""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_SHORT = ("B", "Ki", "Mi", "Gi", "Ti", "Pi")

#: What a table's size cells mean, for help and legends.
UNITS_NOTE = "sizes are binary: Ki = KiB = 1024 bytes, Mi = MiB, Gi = GiB"


def _scale(n: int, top: float = 999.95) -> tuple[float, int]:
    """abs(n) in binary units, moving up before a unit would print as 1000 (1.0 MiB, not 1000 KiB), and its index."""
    value = float(abs(n))
    unit = 0
    while value >= top and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    return value, unit


def human(n: int | None) -> str:
    """Binary units with one decimal (1.5 GiB); 'n/a' for a value that could not be read."""
    if n is None:
        return "n/a"
    value, unit = _scale(n)
    sign = "-" if n < 0 else ""
    return f"{sign}{int(value)} B" if unit == 0 else f"{sign}{value:.1f} {_UNITS[unit]}"


def compact(n: int | None) -> str:
    """At most 6 characters for a positive table cell: 812Ki, 13.4Mi, 1.2Gi; '-' when unknown."""
    if n is None:
        return "-"
    value, unit = _scale(n, 999.5)
    sign = "-" if n < 0 else ""
    if unit == 0:
        return f"{sign}{int(value)}B"
    return f"{sign}{value:.1f}{_SHORT[unit]}" if value < 99.95 else f"{sign}{value:.0f}{_SHORT[unit]}"


def rate(bytes_per_second: float | None) -> str:
    """A signed change per second for the table (+1.2Mi under ΔRSS/s); blank when still or not yet known."""
    if bytes_per_second is None:
        return ""
    if abs(bytes_per_second) < 1024:
        return ""
    sign = "+" if bytes_per_second > 0 else "-"
    return sign + compact(int(abs(bytes_per_second)))


def escape(text: str) -> str:
    """Control characters (a comm may hold a newline) shown as escapes, never raw."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def percent(part: int | None, whole: int | None) -> str:
    if part is None or not whole:
        return "-"
    return f"{part * 100 / whole:.1f}%"


_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: tuple[float, ...] | list[float], width: int | None = None, top: float | None = None) -> str:
    """The last ``width`` values as block glyphs scaled to ``top`` (default: their maximum).

    Zero is a space and anything above zero at least the lowest block, so a
    single event in a quiet window still shows.
    """
    shown = list(values[-width:]) if width else list(values)
    peak = top if top is not None else max(shown, default=0.0)
    if peak <= 0:
        return " " * len(shown)
    out = []
    for value in shown:
        if value <= 0:
            out.append(" ")
        else:
            out.append(_BLOCKS[min(int(value / peak * (len(_BLOCKS) - 1) + 0.5), len(_BLOCKS) - 1)])
    return "".join(out)


def events(per_second: float | None) -> str:
    """An event rate for a narrow cell: 0, 3.5, 120, 4.2k, 1.1M; '-' when unknown."""
    if per_second is None:
        return "-"
    if per_second == 0:
        return "0"
    if per_second < 10:
        return f"{per_second:.1f}"
    if per_second < 1000:
        return f"{per_second:.0f}"
    if per_second < 1_000_000:
        return f"{per_second / 1000:.1f}k"
    return f"{per_second / 1_000_000:.1f}M"


def age(seconds: float) -> str:
    """How long ago, in the unit a reader takes in at once: 42 s, 12 min, 3.5 h."""
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
