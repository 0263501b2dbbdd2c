"""Rows shared by the dashboard and the command line."""
