"""/proc/vmstat: every counter, as given by the kernel."""

from __future__ import annotations

from .errors import ParseError


def parse_vmstat(text: str) -> dict[str, int]:
    """Parse ``name value`` lines into a dict, keeping every counter.

    Counters come and go between kernel versions (thp_split became
    thp_split_page in 4.5; oom_kill appeared in 4.13), so none is required.
    Some are signed gauges (nr_* can briefly go negative per CPU).

    Raises:
        ParseError: on a line that is not ``name integer``.
    """
    out: dict[str, int] = {}
    for raw in text.splitlines():
        if not raw.strip():
            continue
        words = raw.split()
        if len(words) != 2:
            raise ParseError(f"malformed vmstat line: {raw!r}")
        name, value = words
        try:
            if not value.lstrip("-").isdigit() or not value.isascii():
                raise ValueError(value)
            out[name] = int(value)
        except ValueError:
            raise ParseError(f"malformed vmstat value: {raw!r}") from None
    return out
