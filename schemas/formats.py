"""Format checkers for the JSON Schema ``format`` keyword, shared by every schema.

Formats are asserted (not just annotated): a schema that says ``"format": "gtin"`` rejects a
wrong check digit. The stock ``date`` checker of the standard library accepts forms that RFC 3339
does not ("20240131", week dates), so ``date`` and ``date-time`` are replaced by strict ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

from jsonschema import FormatChecker

# [0-9], not \d: \d also matches other scripts' digits, which int() would then accept.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
                        r"(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})")
_DIGITS = re.compile(r"[0-9]+")


def gs1_check_digit_ok(digits: str) -> bool:
    """GS1 mod-10 check: weights 3,1,3,... from the right, check digit excluded."""
    if not _DIGITS.fullmatch(digits) or len(digits) < 2:
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def is_gtin(value: object) -> bool:
    return isinstance(value, str) and len(value) in (8, 12, 13, 14) and gs1_check_digit_ok(value)


def is_gln(value: object) -> bool:
    return isinstance(value, str) and len(value) == 13 and gs1_check_digit_ok(value)


def is_sscc(value: object) -> bool:
    return isinstance(value, str) and len(value) == 18 and gs1_check_digit_ok(value)


def is_date(value: object) -> bool:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_date_time(value: object) -> bool:
    """RFC 3339 date-time: a time zone offset is mandatory (a naive time is ambiguous)."""
    if not isinstance(value, str):
        return False
    match = _DATE_TIME.fullmatch(value)
    if match is None or not is_date(match.group(1)):
        return False
    hour, minute, second = (int(match.group(i)) for i in (2, 3, 4))
    # RFC 3339 allows a leap second (60); datetime does not, so check the ranges by hand.
    return hour < 24 and minute < 60 and second <= 60


def parse_date_time(value: str) -> datetime:
    """Parse an RFC 3339 date-time already accepted by :func:`is_date_time`."""
    text = value.replace("z", "Z").replace("Z", "+00:00").replace("t", "T")
    return datetime.fromisoformat(text.replace(":60", ":59"))


FORMATS: dict[str, Callable[[object], bool]] = {
    "date": is_date,
    "date-time": is_date_time,
    "gtin": is_gtin,
    "gln": is_gln,
    "sscc": is_sscc,
}


def format_checker() -> FormatChecker:
    """A checker that knows exactly our formats; non-strings pass (``type`` reports those)."""
    checker = FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checks(name)(_strings_only(check))
    return checker


def _strings_only(check: Callable[[object], bool]) -> Callable[[object], bool]:
    def wrapped(value: object) -> bool:
        return not isinstance(value, str) or check(value)

    return wrapped
