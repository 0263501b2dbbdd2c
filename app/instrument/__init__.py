"""Heap instrumentation: the preload library's build, the gdb sample, the program `memtop run` starts."""
