"""What memtop says about the kernel's figures: one line per smaps field, THP counter and threshold."""
