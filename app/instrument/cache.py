"""memtop's per-user cache directory (the counter library, kept working sets).

Its own module, with nothing but ``os`` and ``pathlib``: ``memtop --json``
needs the path (to read kept working sets) but none of the preload
library's build tools (issue 17, goal 5: start-up is part of its cost).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    """$XDG_CACHE_HOME/memtop, else ~/.cache/memtop (XDG base directory spec)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "memtop"
