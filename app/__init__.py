"""memtop: explains a Linux machine's memory layer by layer."""

__version__ = "0.1.0"
