"""Pictures of the screens (pytest-textual-snapshot), on fixture data only."""
