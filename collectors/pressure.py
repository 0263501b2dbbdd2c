"""Pressure stall information, /proc/pressure/memory (Documentation/accounting/psi.rst)."""

from __future__ import annotations

from .errors import ParseError
from .models import Pressure, PressureLine


def _float(word: str) -> float:
    value = float(word)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(word)
    return value


def parse_pressure(text: str) -> Pressure:
    """Parse a PSI file.

    The upstream format is ``some avg10=0.00 avg60=0.00 avg300=0.00 total=0``
    (and a ``full`` line, absent for CPU before 5.13). The pre-upstream format
    some hosts still print, ``some 1.11 2.22 3.33``, gives the averages with no
    total. ``aggr`` lines of that format are ignored.

    Raises:
        ParseError: on a malformed some/full line, or when neither is present.
    """
    lines: dict[str, PressureLine] = {}
    for raw in text.splitlines():
        words = raw.split()
        if not words or words[0] not in ("some", "full") or words[0] in lines:
            continue
        kind, rest = words[0], words[1:]
        try:
            if rest and all("=" in w for w in rest):
                kv = dict(w.split("=", 1) for w in rest)
                total = kv.get("total")
                line = PressureLine(
                    _float(kv["avg10"]), _float(kv["avg60"]), _float(kv["avg300"]),
                    int(total) if total is not None else None,
                )
            elif len(rest) == 3:
                line = PressureLine(_float(rest[0]), _float(rest[1]), _float(rest[2]), None)
            else:
                raise ParseError(f"malformed pressure line: {raw!r}")
        except (KeyError, ValueError) as exc:
            if isinstance(exc, ParseError):
                raise
            raise ParseError(f"malformed pressure line: {raw!r}") from None
        lines[kind] = line
    if not lines:
        raise ParseError("no 'some' or 'full' line: not a PSI file")
    return Pressure(some=lines.get("some"), full=lines.get("full"))
