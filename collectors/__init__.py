"""Readers of /proc and /sys that produce frozen snapshots.

Nothing here imports textual or the widgets (an import-linter contract in
pyproject.toml enforces it). Parsers take text and are pure; readers take a
``HostPaths`` so a captured tree can stand in for the live host.
"""
