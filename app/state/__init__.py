"""What memtop remembers between snapshots: the live session, histories and derived state (no textual)."""
