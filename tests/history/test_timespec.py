"""--at, --retain and --max-size: each accepted form, and arbitrary text refused with a message, never a crash."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, strategies as st

from memtop.history.timespec import SpecError, describe_duration, parse_duration, parse_size, parse_time

END = datetime(2026, 12, 4, 13, 30, 0).timestamp()
START = END - 86400


def test_time_forms() -> None:
    assert parse_time("-90s", START, END) == END - 90
    assert parse_time("-5m", START, END) == END - 300
    assert parse_time("-2h", START, END) == END - 7200
    assert parse_time("1796385600", START, END) == 1796385600.0
    assert parse_time("2026-12-04T13:05:00", START, END) == datetime(2026, 12, 4, 13, 5).timestamp()
    assert parse_time("13:05", START, END) == datetime(2026, 12, 4, 13, 5).timestamp()
    assert parse_time("13:05:30", START, END) == datetime(2026, 12, 4, 13, 5, 30).timestamp()
    assert parse_time("2026-12-04T12:00:00Z", START, END) == 1796385600.0


def test_durations_and_sizes() -> None:
    assert parse_duration("7d") == 7 * 86400 and parse_duration("90") == 90
    assert parse_size("500M") == 500 << 20 and parse_size("1.5GiB") == 3 << 29 and parse_size("4096") == 4096
    for bad in ("0s", "-5m", "inf", "5x"):
        with pytest.raises(SpecError):
            parse_duration(bad)
    with pytest.raises(SpecError):
        parse_size("0")


@given(st.text(max_size=30))
def test_any_text_is_a_time_or_a_message(text: str) -> None:
    try:
        value = parse_time(text, START, END)
    except SpecError as exc:
        assert str(exc)
    else:
        assert isinstance(value, float)


@given(st.integers(1, 10**6), st.sampled_from("smhd"))
def test_relative_times_count_back_from_the_end(n: int, unit: str) -> None:
    seconds = n * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    assert parse_time(f"-{n}{unit}", START, END) == END - seconds


def test_a_duration_is_said_in_the_unit_it_would_be_typed_in() -> None:
    """`memtop record` says its retention as --retain takes it (7d, not 604800 s)."""
    assert describe_duration(604800.0) == "1w"
    assert describe_duration(7 * 86400.0 + 3600) == "169h"
    assert describe_duration(86400.0) == "1d"
    assert describe_duration(5400.0) == "90m"
    assert describe_duration(90.0) == "90s"
    assert describe_duration(0.5) == "0.5s"
    assert describe_duration(1234.25) == "1234.25s"


@given(st.integers(min_value=1, max_value=10**9))
def test_a_said_duration_reads_back_as_itself(seconds: int) -> None:
    assert parse_duration(describe_duration(float(seconds))) == seconds
