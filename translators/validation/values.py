"""Checks of one simple data element value against its definition: length, type, code list.

Each check returns the fault kind (a row of ``error_codes/grammar.toml``) and a plain English
reason, or None when the value is fine. Pure functions, called once per element value.
"""

from __future__ import annotations

from translators.grammar.model import ElementDef
from translators.syntax.digits import ascii_digits, shown

Fault = tuple[str, str] | None

# Every check below is one left-to-right scan of the value (no regular expression: a
# backtracking pattern such as -?(\d+\.?\d*|\.\d+) is quadratic on a long run of digits that
# ends in a letter), and only ASCII digits are digits (str.isdigit() admits "²"). The C
# predicate in _accel.c implements the same scans.
_DIGIT_CHARS = frozenset("0123456789")
_NOT_DIGITS = str.maketrans("", "", "0123456789")  # (deletes the ASCII digits)


def _digit_run(value: str, start: int) -> int:
    """The index after the run of ASCII digits that starts at ``start``."""
    rest = value[start:] if start else value
    return len(value) - len(rest.lstrip("0123456789"))


def _x12_int(value: str) -> bool:
    """-?[0-9]+"""
    start = 1 if value[:1] == "-" else 0
    return len(value) > start and ascii_digits(value[start:])


def _x12_real(value: str) -> bool:
    r"""-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([Ee]-?[0-9]+)?"""
    i = 1 if value[:1] == "-" else 0
    n = len(value)
    after = _digit_run(value, i)
    if after > i:
        i = after
        if i < n and value[i] == ".":
            i = _digit_run(value, i + 1)
    else:
        if i >= n or value[i] != ".":
            return False
        after = _digit_run(value, i + 1)
        if after == i + 1:
            return False
        i = after
    if i < n and value[i] in "Ee":
        i += 1
        if i < n and value[i] == "-":
            i += 1
        after = _digit_run(value, i)
        if after == i:
            return False
        i = after
    return i == n


def _edifact_numeric(value: str) -> tuple[bool, bool]:
    """(-?[0-9]*([.,][0-9]*)? with a digit somewhere, a digit in front of the decimal mark)."""
    i = 1 if value[:1] == "-" else 0
    n = len(value)
    after = _digit_run(value, i)
    before = after - i
    i = after
    fraction = 0
    marked = i < n and value[i] in ".,"
    if marked:
        after = _digit_run(value, i + 1)
        fraction = after - i - 1
        i = after
    return i == n and before + fraction > 0, before > 0 or not marked


def _length(kind: str, value: str) -> int:
    """Length as the standards count it: sign and decimal mark do not count for numbers."""
    if kind in ("n", "R") or kind.startswith("N"):
        return len(value) - len(value.translate(_NOT_DIGITS))
    return len(value)


def check_value(definition: ElementDef, value: str, standard: str) -> Fault:
    kind = definition.type
    fault = _check_type(kind, value, standard)
    if fault is not None:
        return fault
    size = _length(kind, value)
    if size < definition.min:
        return ("element.too_short",
                f"'{shown(value)}' is {size} characters long, the minimum is {definition.min}")
    if size > definition.max:
        return ("element.too_long",
                f"'{shown(value)}' is {size} characters long, the maximum is {definition.max}")
    codes = definition.codes
    if codes is not None and value not in codes:
        return ("element.invalid_code",
                f"'{shown(value)}' is not a valid code of "
                f"{definition.codelist or definition.ref}")
    return None


def _check_type(kind: str, value: str, standard: str) -> Fault:
    if standard == "x12":
        if kind == "DT":
            return None if _valid_date(value) else (
                "element.invalid_date",
                f"'{shown(value)}' is not a valid date (CCYYMMDD or YYMMDD)")
        if kind == "TM":
            return None if _valid_time(value) else (
                "element.invalid_time", f"'{shown(value)}' is not a valid time (HHMM[SS[d..]])")
        if kind.startswith("N") and not _x12_int(value):
            return ("element.invalid_character", f"'{shown(value)}' is not a whole number")
        if kind == "R" and not _x12_real(value):
            return ("element.invalid_character", f"'{shown(value)}' is not a decimal number")
        return None
    if kind == "n":
        numeric, leading = _edifact_numeric(value)
        if not numeric:
            return ("element.invalid_type", f"'{shown(value)}' is not numeric")
        if not leading:
            return ("element.missing_leading_digit",
                    f"'{shown(value)}' has no digit in front of the decimal mark")
    elif kind == "a" and not _DIGIT_CHARS.isdisjoint(value):
        return ("element.invalid_type",
                f"'{shown(value)}' holds digits in an alphabetic element")
    return None


def _valid_date(value: str) -> bool:
    if len(value) not in (6, 8) or not ascii_digits(value):
        return False
    month, day = int(value[-4:-2]), int(value[-2:])
    if not 1 <= month <= 12 or day < 1:
        return False
    year = int(value[:-4]) if len(value) == 8 else 2000 + int(value[:2])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    return day <= days


def _valid_time(value: str) -> bool:
    if len(value) not in (4, 6, 7, 8) or not ascii_digits(value):
        return False
    if int(value[:2]) > 23 or int(value[2:4]) > 59:
        return False
    return len(value) < 6 or int(value[4:6]) <= 59
