"""USS, the one memory figure memtop adds up itself: its formula and what it means, written once.

The kernel prints RSS and PSS; USS (unique set size) is memtop's sum of two
smaps (or smaps_rollup) lines, Private_Clean + Private_Dirty: the resident
pages no other process maps, which the process's exit frees (its swapped-out
pages aside). Documentation/filesystems/proc.rst, "smaps". Every help text
that names the formula (the tables' column help, the process screen's notes,
``memtop --maps``) takes it from here.
"""

from __future__ import annotations

#: The smaps lines USS sums.
USS_FIELDS = ("Private_Clean", "Private_Dirty")
#: How USS is computed, as the help texts say it.
USS_FORMULA = " + ".join(USS_FIELDS)
#: What USS means to a person deciding what to stop.
USS_FREES = "what exiting would free"
