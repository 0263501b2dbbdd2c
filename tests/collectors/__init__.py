"""Readers and parsers, on text and on fixture trees."""
