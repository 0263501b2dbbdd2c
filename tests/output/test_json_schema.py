"""The published JSON Schemas hold for real output, and every nullable field says when it is null."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import replace
from typing import Any

import jsonschema
import pytest

from memtop.collectors.models import HeapCounters, ProcessMaps, WorkingSet
from memtop.collectors.smaps import parse_smaps
from memtop.output.maps_report import maps_json
from memtop.output.report import snapshot_json
from memtop.output.schemas import FILES, schema
from memtop.rules.diagnoses import Signals, diagnose

from tests.dashboard_fixtures import CAPTURES, MIB, captured, made
from tests.maps_fixtures import smaps_text


def strict(document: dict[str, Any]) -> dict[str, Any]:
    """The schema with no field left undeclared: output may not carry a field the schema does not name."""
    out = copy.deepcopy(document)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(out)
    return out


def check(name: str, output: Any) -> None:
    validator = jsonschema.Draft202012Validator(strict(schema(name)))
    errors = sorted(validator.iter_errors(output), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_schemas_are_valid_json_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(name))


def _nullable(node: dict[str, Any]) -> bool:
    types = node.get("type")
    return (isinstance(types, list) and "null" in types) or any(o.get("type") == "null" for o in node.get("anyOf", []))


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_nullable_field_says_when_it_is_null(name: str) -> None:
    missing = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                if _nullable(sub) and "null " not in sub.get("description", ""):
                    missing.append(f"{where}.{key}")
            for key, sub in node.items():
                walk(sub, f"{where}.{key}" if key != "properties" else where)
        elif isinstance(node, list):
            for sub in node:
                walk(sub, where)

    walk(schema(name), name)
    assert not missing


@pytest.mark.parametrize("capture", ["vm-6.18-root", "vm-6.18-user"])
def test_captured_snapshots_validate(capture: str) -> None:
    snap = captured(capture)
    check("snapshot", snapshot_json(snap, snap.processes, diagnoses=diagnose(snap, Signals())))


def test_a_snapshot_with_heaps_diagnoses_and_working_sets_validates() -> None:
    snap = made()
    heap = HeapCounters(pid=201, source="preload", starttime=100, in_use=80 * MIB, peak=90 * MIB, allocs=10, frees=2)
    snap = replace(snap, heaps=(heap,))
    ws = WorkingSet(201, 100, "python3", 5.0, 0.0, 30 * MIB, 200 * MIB, 0, 1000 * MIB)
    failed = WorkingSet(202, 100, "python3", 5.0, 0.0, None, None, None, None, error="permission denied")
    check("snapshot", snapshot_json(snap, snap.processes, diagnoses=diagnose(snap, Signals()), working_sets=(ws, failed)))


def test_a_pid_only_snapshot_validates() -> None:
    snap = replace(captured(), reconciliation=None, cgroups=None, pressure=None, thp=None)
    check("snapshot", snapshot_json(snap, snap.processes[:2]))


def test_mappings_validate() -> None:
    mappings = parse_smaps(smaps_text())
    check("maps", maps_json(ProcessMaps(pid=42, starttime=1, process=None, status=(), mappings=mappings, error=None,
                                    exited=False, read_seconds=0.0)))


def test_the_command_line_prints_the_schemas() -> None:
    for name, expected in (("snapshot", "memtop.snapshot/1"), ("maps", "memtop.maps/1")):
        out = subprocess.run([sys.executable, "-m", "memtop", "--json-schema", name], capture_output=True, text=True, check=True)
        assert json.loads(out.stdout)["$id"] == expected
    bare = subprocess.run([sys.executable, "-m", "memtop", "--json-schema"], capture_output=True, text=True, check=True)
    assert json.loads(bare.stdout)["$id"] == "memtop.snapshot/1"


def test_the_json_of_a_capture_from_the_command_line_validates() -> None:
    out = subprocess.run([sys.executable, "-m", "memtop", "--json", "--root", str(CAPTURES / "vm-6.18-root")],
                         capture_output=True, text=True, check=True)
    check("snapshot", json.loads(out.stdout))
