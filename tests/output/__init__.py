"""The command line's text and JSON."""
