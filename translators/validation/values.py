"""Checks of one simple data element value against its definition: length, type, code list.

Each check returns the fault kind (a row of ``error_codes/grammar.toml``) and a plain English
reason, or None when the value is fine. Pure functions, called once per element value.
"""

from __future__ import annotations

import re

from translators.grammar.model import ElementDef

_X12_NUMBER = re.compile(r"^-?\d+$")
_X12_REAL = re.compile(r"^-?(\d+\.?\d*|\.\d+)([Ee]-?\d+)?$")
_EDIFACT_NUMBER = re.compile(r"^-?\d*([.,]\d*)?$")
_DIGITS = re.compile(r"^\d+$")

Fault = tuple[str, str] | None


def _length(kind: str, value: str) -> int:
    """Length as the standards count it: sign and decimal mark do not count for numbers."""
    if kind in ("n", "R") or kind.startswith("N"):
        return sum(1 for ch in value if ch.isdigit())
    return len(value)


def check_value(definition: ElementDef, value: str, standard: str) -> Fault:
    kind = definition.type
    fault = _check_type(kind, value, standard)
    if fault is not None:
        return fault
    size = _length(kind, value)
    if size < definition.min:
        return ("element.too_short",
                f"'{value}' is {size} characters long, the minimum is {definition.min}")
    if size > definition.max:
        return ("element.too_long",
                f"'{value}' is {size} characters long, the maximum is {definition.max}")
    codes = definition.codes
    if codes is not None and value not in codes:
        return ("element.invalid_code",
                f"'{value}' is not a valid code of {definition.codelist or definition.ref}")
    return None


def _check_type(kind: str, value: str, standard: str) -> Fault:
    if standard == "x12":
        if kind == "DT":
            return None if _valid_date(value) else (
                "element.invalid_date", f"'{value}' is not a valid date (CCYYMMDD or YYMMDD)")
        if kind == "TM":
            return None if _valid_time(value) else (
                "element.invalid_time", f"'{value}' is not a valid time (HHMM[SS[d..]])")
        if kind.startswith("N") and not _X12_NUMBER.match(value):
            return ("element.invalid_character", f"'{value}' is not a whole number")
        if kind == "R" and not _X12_REAL.match(value):
            return ("element.invalid_character", f"'{value}' is not a decimal number")
        return None
    if kind == "n":
        if not _EDIFACT_NUMBER.match(value) or not any(ch.isdigit() for ch in value):
            return ("element.invalid_type", f"'{value}' is not numeric")
        if value.lstrip("-")[:1] in (".", ","):
            return ("element.missing_leading_digit",
                    f"'{value}' has no digit in front of the decimal mark")
    elif kind == "a" and any(ch.isdigit() for ch in value):
        return ("element.invalid_type", f"'{value}' holds digits in an alphabetic element")
    return None


def _valid_date(value: str) -> bool:
    if not _DIGITS.match(value) or len(value) not in (6, 8):
        return False
    month, day = int(value[-4:-2]), int(value[-2:])
    if not 1 <= month <= 12 or day < 1:
        return False
    year = int(value[:-4]) if len(value) == 8 else 2000 + int(value[:2])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    return day <= days


def _valid_time(value: str) -> bool:
    if not _DIGITS.match(value) or len(value) not in (4, 6, 7, 8):
        return False
    if int(value[:2]) > 23 or int(value[2:4]) > 59:
        return False
    return len(value) < 6 or int(value[4:6]) <= 59
