"""Text and JSON reports for the command line (never textual)."""
