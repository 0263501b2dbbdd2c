"""memtop.instrument without gdb or a compiler: whose pid is it now, and signals sent only to the process asked about."""
