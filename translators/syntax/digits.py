"""Linear, bounded checks of partner text that should hold a number.

``str.isdigit()`` also accepts digits beyond ASCII ("²", "٣"), which ``int()`` then refuses or
reads differently, and ``int()`` of a long digit string is refused past Python's digit limit
(and quadratic below it). Partner data goes through these instead: ASCII digits only, and no
conversion of more digits than any standard field holds.
"""

from __future__ import annotations

# No control number, count or position in X12 or EDIFACT has more than 14 digits; 18 still
# fits a signed 64-bit integer.
MAX_INT_DIGITS = 18


def ascii_digits(text: str) -> bool:
    """True when ``text`` is one or more ASCII digits 0-9 (and nothing else)."""
    return text.isascii() and text.isdigit()


def bounded_int(text: str, max_digits: int = MAX_INT_DIGITS) -> int | None:
    """The value of ``text`` when it is 1..``max_digits`` ASCII digits, else None."""
    if 0 < len(text) <= max_digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def shown(value: str, limit: int = 40) -> str:
    """A partner value as quoted in an error message: long values are cut, so that a hostile
    100 kB value does not end up in every report line."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value)} characters)"
