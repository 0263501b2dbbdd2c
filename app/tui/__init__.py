"""The Textual app: the App, its screens and stylesheet (the only part of memtop.* outside widgets/ that imports textual)."""
