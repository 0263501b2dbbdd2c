"""What memtop recorded: an SQLite store of snapshots (``memtop record``), read back for replay (issue 15).

The recorder stores what the model ingests; a replay rebuilds the snapshots
and feeds them to the same model and screens, so no pane has a second code
path for the past.
"""
