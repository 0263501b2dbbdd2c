"""What memtop was asked to do: the model's options (the command line sets them; settings will too).

Frozen: a change is a new value, so a screen, the model and the monitor
never disagree about a field halfway through a pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from memtop.views.columns import DEFAULT_COLUMNS

#: Refresh intervals the dashboard steps through with ``[`` and ``]`` (seconds).
INTERVALS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class StartOptions:
    """What the command line asked for, over the settings remembered (memtop.state.settings)."""

    interval: float = 1.0
    sort: str = "pss"
    text: str = ""
    pid: int | None = None
    frozen: bool = False  # --root: a captured tree, collected once
    # Remembered between runs (issue 18): the config file's, under the flags.
    reverse: bool = False
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    panes: bool = True
    chart_window: float = 300.0  # seconds
    theme: str | None = None
    kernel_threads: bool = False


def step_interval(current: float, step: int) -> float:
    """The offered interval ``step`` places from the one nearest ``current`` (clamped at the ends)."""
    index = min(range(len(INTERVALS)), key=lambda i: abs(INTERVALS[i] - current))
    return INTERVALS[max(0, min(index + step, len(INTERVALS) - 1))]
