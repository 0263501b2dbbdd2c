"""The times, durations and sizes the history flags take (``--at``, ``--retain``, ``--max-size``).

A time is ISO 8601 (local time unless it names a zone), ``HH:MM[:SS]`` of the
recording's last day, Unix seconds, or relative to the recording's end
(``-90s``, ``-5m``, ``-2h``, ``-1d``).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, time as clock_time

UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)


class SpecError(ValueError):
    """A time, duration or size that cannot be read; the message says what is accepted."""


def parse_duration(text: str) -> float:
    """Seconds of ``90s``, ``5m``, ``2h``, ``7d``, ``1w`` or a plain number of seconds; above zero."""
    m = _DURATION.fullmatch(text.strip().lower())
    if m is None:
        raise SpecError(f"not a duration: {text!r} (a number with s, m, h, d or w: 90s, 5m, 2h, 7d)")
    value = float(m.group(1)) * UNITS[m.group(2) or "s"]
    if not (value > 0 and math.isfinite(value)):
        raise SpecError(f"a duration must be above zero: {text!r}")
    return value


def parse_size(text: str) -> int:
    """Bytes of ``500M``, ``1G``, ``1.5GiB``, ``64k`` or a plain number of bytes (units are powers of 1024)."""
    m = _SIZE.fullmatch(text.strip())
    if m is None:
        raise SpecError(f"not a size: {text!r} (a number with k, M, G or T: 500M, 2G)")
    value = float(m.group(1)) * SIZE_UNITS[m.group(2).lower()]
    if not (value >= 1 and math.isfinite(value)):
        raise SpecError(f"a size must be at least one byte: {text!r}")
    return int(value)


def describe_duration(seconds: float) -> str:
    """``7d``, ``90m``, ``36h``: the largest unit of ``parse_duration`` that gives a whole number (else seconds)."""
    for unit in ("w", "d", "h", "m"):
        count = seconds / UNITS[unit]
        if count >= 1 and count == int(count):
            return f"{int(count)}{unit}"
    whole = seconds == int(seconds)
    # Never 1e+06s: --retain reads no exponent.
    return f"{int(seconds)}s" if whole else f"{seconds:.6f}".rstrip("0").rstrip(".") + "s"


def parse_time(text: str, start: float, end: float) -> float:
    """Unix seconds of a time given against a recording from ``start`` to ``end``."""
    s = text.strip()
    if s.startswith("-"):
        try:
            return end - parse_duration(s[1:])
        except SpecError:
            raise SpecError(f"not a time: {text!r} (relative to the end: -90s, -5m, -2h)") from None
    if re.fullmatch(r"\d+(\.\d+)?", s) and ":" not in s:
        value = float(s)
        if not math.isfinite(value):
            raise SpecError(f"not a time: {text!r}")
        return value
    m = _CLOCK.fullmatch(s)
    if m is not None:
        hour, minute, second = int(m.group(1)), int(m.group(2)), float(m.group(3) or 0)
        if hour > 23 or minute > 59 or second >= 60:
            raise SpecError(f"not a time of day: {text!r}")
        day = datetime.fromtimestamp(end).date()
        whole = int(second)
        moment = datetime.combine(day, clock_time(hour, minute, whole, int((second - whole) * 1e6)))
        return moment.timestamp()
    try:
        moment = datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s)
        return moment.timestamp()  # a naive time is local time
    except (ValueError, OverflowError, OSError):
        raise SpecError(f"not a time: {text!r} (ISO 8601 as 2026-12-04T13:05:00, HH:MM[:SS] of the last day, "
                        "Unix seconds, or -90s/-5m/-2h from the end)") from None


def describe_time(t: float) -> str:
    """A recorded moment as the header and the reports say it (local time)."""
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")
