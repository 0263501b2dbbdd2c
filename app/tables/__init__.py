"""Rows shared by the dashboard and the command line: selection, sorting, process and mapping rows."""
