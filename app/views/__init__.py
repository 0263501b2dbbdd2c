"""What the panes draw, as plain data: view dataclasses and the formatting of sizes and names (no textual)."""
