"""Tests that need the real /proc, a C compiler, gdb or cgroups (marked live)."""
