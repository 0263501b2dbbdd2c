"""What memtop says about the kernel's figures: one line per smaps field, VmFlags code and THP counter."""
