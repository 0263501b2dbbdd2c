"""The Grafana dashboard shipped in the package (dashboard.json), and the queries in it.

Importable as is (Dashboards, New, Import, paste): a Prometheus data source
is chosen on import ($datasource), instances come from memtop_build_info.
tests/export/test_grafana.py checks that every query names only metrics
memtop exports, with labels they carry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any


def dashboard_text() -> str:
    """The dashboard JSON, as shipped."""
    return resources.files("memtop.export").joinpath("dashboard.json").read_text(encoding="utf-8")


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(dashboard_text())
    return loaded


def queries(board: dict[str, Any] | None = None) -> Iterator[tuple[str, str]]:
    """(panel title, PromQL expression) of every target of every panel, rows' nested panels included."""
    board = dashboard() if board is None else board
    stack = list(board.get("panels", []))
    while stack:
        panel = stack.pop(0)
        stack.extend(panel.get("panels", []))
        for target in panel.get("targets", []):
            yield panel.get("title", ""), target["expr"]
