"""What every memtop command shares: the usage error, number checks, where the host is."""

from __future__ import annotations

import argparse
import math

from memtop.collectors.paths import HostPaths


class UsageError(Exception):
    """Bad input from the user: one line on stderr, exit 2."""


def positive(text: str) -> float:
    """A finite number above zero (``inf`` and ``nan`` are refused: a sleep of either never ends well)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text}")
    return value


def count(text: str) -> int:
    """A whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text}")
    return value


def host_paths(root: str | None) -> HostPaths:
    """The live host, or a captured tree under ``root`` (which must hold proc/)."""
    if root is None:
        return HostPaths()
    paths = HostPaths.from_root(root)
    if not paths.proc.is_dir():
        raise UsageError(f"--root {root}: no proc/ directory there")
    return paths
