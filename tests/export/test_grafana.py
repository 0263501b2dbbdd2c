"""The Grafana dashboard: importable JSON whose every query names metrics memtop exports, with their labels."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from prometheus_client.metrics_core import Metric

from memtop.export.grafana import dashboard, dashboard_text, queries

from tests.export.frames import full_frame, scrape

#: Prometheus adds these to every scraped series.
TARGET_LABELS = {"instance", "job"}
NAME = re.compile(r"\b((?:memtop|process)_[a-z0-9_]+)\b")
SELECTOR = re.compile(r"\b((?:memtop|process)_[a-z0-9_]+)\{([^}]*)\}")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\b(?:on|by|ignoring|without)\s*\(([^)]*)\)")


def exported() -> dict[str, set[str]]:
    """Every sample name one scrape of a full frame gives (process_* included), with its label names."""
    names: dict[str, set[str]] = {}
    families: list[Metric] = list(scrape(full_frame(), "program").collect())
    families += list(scrape(full_frame(), "top:5").collect()) + list(scrape(full_frame(), "user").collect())
    for family in families:
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return names


def test_the_dashboard_is_importable_json_with_a_datasource_variable() -> None:
    board = json.loads(dashboard_text())
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    titles = " ".join(p["title"] for p in board["panels"])
    for topic in ("MemTotal by part", "Available vs free", "Top programs by PSS", "THP fault fallback ratio",
                  "Compaction stalls", "Cgroups nearest their limit", "Heap gap"):
        assert topic in titles


def test_every_query_names_only_exported_metrics_and_their_labels() -> None:
    names = exported()
    found = list(queries())
    assert len(found) >= 20
    for title, expr in found:
        metrics = NAME.findall(expr)
        assert metrics, f"{title}: {expr} names no memtop metric"
        for metric in metrics:
            assert metric in names, f"{title}: {metric} is not exported"
        for metric, matchers in SELECTOR.findall(expr):
            for label in MATCHER.findall(matchers):
                assert label in names[metric] | TARGET_LABELS, f"{title}: {metric} has no label {label}"
        for group in GROUPING.findall(expr):
            for label in (l.strip() for l in group.split(",") if l.strip()):
                assert any(label in names[m] | TARGET_LABELS for m in metrics), f"{title}: no metric has {label}"


def test_memtop_serve_prints_it(capfd: pytest.CaptureFixture[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "memtop", "serve", "--grafana-dashboard"], capture_output=True, text=True)
    assert result.returncode == 0
    assert json.loads(result.stdout) == dashboard()
