"""The project's own exceptions."""


class ParseError(ValueError):
    """Text that is not in the format a parser expects.

    Parsers raise this (and only this) on malformed input, so callers can turn
    it into one clear message instead of a traceback.
    """
