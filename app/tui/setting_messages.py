"""Requests from the screens to the app about settings (issue 18): the app applies and remembers them.

A screen never writes the config file itself: it says what the user changed,
and the app (which owns the settings store laid over the model's options)
applies it (kernel threads: the collector; interval: the monitor) and writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message


@dataclass
class SettingsChanged(Message):
    """The user changed these settings (names of memtop.state.settings.Settings) in the app."""

    values: dict[str, object] = field(default_factory=dict)
