"""What the panes draw, as plain data (no textual): view dataclasses, step lines read over a window,
USS's formula, the formatting of sizes and names."""
