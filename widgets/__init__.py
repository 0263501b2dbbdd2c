"""Textual widgets of memtop's dashboard.

Widgets draw what they are given: snapshot dataclasses (``memtop.collectors.models``),
views (``memtop.views``: the THP view, the chart's series) and rows built by the
app; they never open /proc or read the clock themselves.
"""
