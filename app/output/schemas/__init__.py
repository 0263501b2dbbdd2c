"""The published JSON Schemas of memtop's output (``memtop --json-schema``), shipped as package data.

``memtop.snapshot/1`` (``memtop --json``) and ``memtop.maps/1`` (``memtop --maps PID
--json``), JSON Schema 2020-12. Every field that can be null says when, in its
description; the tests validate real output against them.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

#: The schemas by the short name ``--json-schema`` takes.
FILES = {"snapshot": "memtop.snapshot-1.schema.json", "maps": "memtop.maps-1.schema.json"}


def schema_text(name: str) -> str:
    """The schema as shipped (``snapshot`` or ``maps``)."""
    return resources.files(__package__).joinpath(FILES[name]).read_text(encoding="utf-8")


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text(name))
    return loaded
