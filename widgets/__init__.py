"""Textual widgets of memtop's dashboard (built in the dashboard issue).

Widgets render snapshot dataclasses from ``memtop.collectors.models`` and never
open /proc or read the clock themselves.
"""
