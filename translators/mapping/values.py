"""Normalisation of raw EDI values: numbers, dates, periods and code lists.

Everything here is a pure function of its input plus the packaged code-list files, so the
mapping engine (EDI -> payload) and the renderers (payload -> EDI) share one set of rules and
cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

CODES_DIR = Path(__file__).with_name("codes")


class MappingError(ValueError):
    """A value in the message cannot be turned into its payload form (bad date, bad number)."""


# Bounds of what parse_number reads: EDIFACT numerics are at most 35 digits, X12 R at most 15
# (a sign, a decimal mark and an exponent on top).
MAX_NUMBER_CHARS = 64
MAX_EXPONENT = 64


# ---------------------------------------------------------------------------------------------
# numbers


def parse_number(raw: str) -> int | float:
    """EDI numeric text -> JSON number. Accepts the EDIFACT decimal comma, a leading sign and
    X12 implied-sign forms ("-.5"); integral values become ints so "1.00" and "1" agree."""
    text = raw.strip().replace(",", ".")
    if len(text) > MAX_NUMBER_CHARS:
        # (int() refuses thousands of digits, and Decimal -> int of "1E999999999" would
        # build a billion-digit number: no EDI numeric field is anywhere near this long)
        raise MappingError(f"{raw[:40]!r}... is {len(raw)} characters: too long for a number")
    if text.isascii():
        # Plain decimals, the usual case, without Decimal: the same int, or the same float
        # (float(Decimal(t)) is float(str(Decimal(t))), the correctly rounded value of t).
        if text.isdigit():
            return int(text)
        whole, dot, fraction = text.partition(".")
        if dot and fraction.isdigit() and (
                whole.isdigit() or (whole[:1] == "-" and whole[1:].isdigit())):
            return int(whole) if not fraction.strip("0") else float(text)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise MappingError(f"{raw!r} is not a number") from None
    if not value.is_finite():
        raise MappingError(f"{raw!r} is not a finite number")
    if not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        raise MappingError(f"{raw!r} is out of range")
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def format_number(value: int | float | Decimal, decimal_mark: str = ".") -> str:
    """JSON number -> EDI numeric text: no exponent, no trailing zeros, no "+"."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise MappingError(f"{value!r} is not a number")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise MappingError(f"{value!r} is not a finite number")
    if number == number.to_integral_value():
        text = str(number.to_integral_value())
    else:
        text = format(number.normalize(), "f")
    if text.startswith("-0") and text[2:3] in ("", ".") and Decimal(text) == 0:
        text = text[1:]
    return text.replace(".", decimal_mark)


# ---------------------------------------------------------------------------------------------
# dates


def _century(yy: int) -> int:
    # The X12 convention for 6-digit dates: a sliding window, 00-49 -> 20xx, 50-99 -> 19xx.
    return 2000 + yy if yy < 50 else 1900 + yy


def _ymd(year: int, month: int, day: int, raw: str) -> str:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise MappingError(f"{raw!r} is not a valid calendar date") from None


def _digits(raw: str, lengths: tuple[int, ...]) -> str:
    text = raw.strip()
    if len(text) not in lengths or not (text.isascii() and text.isdigit()):
        wanted = " or ".join(str(n) for n in lengths)
        raise MappingError(f"{raw!r} is not a date of {wanted} digits")
    return text


def parse_x12_date(raw: str) -> str:
    """X12 DT: CCYYMMDD (8) or YYMMDD (6) -> ISO date."""
    text = _digits(raw, (8, 6))
    if len(text) == 8:
        return _ymd(int(text[:4]), int(text[4:6]), int(text[6:8]), raw)
    return _ymd(_century(int(text[:2])), int(text[2:4]), int(text[4:6]), raw)


def _week_start(year: int, week: int, raw: str) -> date:
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise MappingError(f"{raw!r} is not a valid ISO week") from None


@dataclass(frozen=True, slots=True)
class Period:
    start: str
    end: str | None = None


def parse_edifact_period(raw: str, fmt: str) -> Period:
    """EDIFACT DTM C507 value with its format code (2379) -> ISO start (and end for ranges).

    Date-times are cut to the date because every payload date field is a calendar date."""
    try:
        return _edifact_period(raw, fmt)
    except OverflowError:  # (a week or month at the end of year 9999)
        raise MappingError(f"{raw!r} is beyond the calendar") from None


def _edifact_period(raw: str, fmt: str) -> Period:
    fmt = fmt.strip() or "102"
    text = raw.strip()
    if fmt in ("102", "203", "204"):
        # CCYYMMDD / CCYYMMDDHHMM / CCYYMMDDHHMMSS. Senders mix these up often (a 102 with a
        # time appended); the digits are unambiguous, so the length decides.
        return Period(_ymd_text(_digits(text, (8, 12, 14))[:8], raw))
    if fmt == "101":
        d = _digits(text, (6,))
        return Period(_ymd(_century(int(d[:2])), int(d[2:4]), int(d[4:6]), raw))
    if fmt == "2":  # DDMMYY
        d = _digits(text, (6,))
        return Period(_ymd(_century(int(d[4:6])), int(d[2:4]), int(d[:2]), raw))
    if fmt == "4":  # DDMMCCYY
        d = _digits(text, (8,))
        return Period(_ymd(int(d[4:8]), int(d[2:4]), int(d[:2]), raw))
    if fmt == "718":  # CCYYMMDD-CCYYMMDD
        start, sep, end = text.partition("-")
        if not sep:
            raise MappingError(f"{raw!r} is not a CCYYMMDD-CCYYMMDD range")
        return Period(_ymd_text(_digits(start, (8,)), raw), _ymd_text(_digits(end, (8,)), raw))
    if fmt == "719":  # CCYYMMDDHHMM-CCYYMMDDHHMM
        start, sep, end = text.partition("-")
        if not sep:
            raise MappingError(f"{raw!r} is not a CCYYMMDDHHMM-CCYYMMDDHHMM range")
        return Period(_ymd_text(_digits(start, (12,))[:8], raw),
                      _ymd_text(_digits(end, (12,))[:8], raw))
    if fmt == "616":  # CCYYWW: the ISO week, Monday to Sunday
        d = _digits(text, (6,))
        monday = _week_start(int(d[:4]), int(d[4:6]), raw)
        return Period(monday.isoformat(), (monday + timedelta(days=6)).isoformat())
    if fmt == "715":  # CCYYWW-CCYYWW
        start, sep, end = text.partition("-")
        if not sep:
            raise MappingError(f"{raw!r} is not a CCYYWW-CCYYWW range")
        first = _week_start(int(_digits(start, (6,))[:4]), int(start[4:6]), raw)
        last = _week_start(int(_digits(end, (6,))[:4]), int(end[4:6]), raw)
        return Period(first.isoformat(), (last + timedelta(days=6)).isoformat())
    if fmt == "610":  # CCYYMM: the whole month
        d = _digits(text, (6,))
        first = date.fromisoformat(_ymd(int(d[:4]), int(d[4:6]), 1, raw))
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return Period(first.isoformat(), (following - timedelta(days=1)).isoformat())
    raise MappingError(f"EDIFACT date format {fmt!r} is not supported")


def _ymd_text(digits: str, raw: str) -> str:
    return _ymd(int(digits[:4]), int(digits[4:6]), int(digits[6:8]), raw)


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise MappingError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


def format_x12_date(value: str) -> str:
    return iso_date(value).strftime("%Y%m%d")


def format_edifact_date(value: str) -> tuple[str, str]:
    """ISO date -> (value, format code) for a DTM C507."""
    return iso_date(value).strftime("%Y%m%d"), "102"


def format_edifact_range(start: str, end: str) -> tuple[str, str]:
    return f"{format_x12_date(start)}-{format_x12_date(end)}", "718"


def format_time(now: datetime, digits: int = 4) -> str:
    return now.strftime("%H%M%S")[:digits]


# ---------------------------------------------------------------------------------------------
# code lists


@dataclass(frozen=True, slots=True)
class CodeList:
    """One code list file: EDI code -> readable value, and the code we write for each value.

    ``passthrough`` lists (units) keep codes they do not know instead of mapping them to
    ``default``; ``render`` picks one code per value where several codes share a meaning."""

    name: str
    codes: dict[str, str]
    default: str | None = None
    passthrough: bool = False
    render: dict[str, str] = field(default_factory=dict)

    def read(self, code: str) -> str | None:
        code = code.strip()
        if not code:
            return None
        if code in self.codes:
            return self.codes[code]
        if self.passthrough:
            return code
        return self.default

    def write(self, value: str) -> str:
        if value in self.render:
            return self.render[value]
        for code, meaning in self.codes.items():
            if meaning == value:
                return code
        if self.passthrough:
            return value
        raise MappingError(f"code list {self.name}: no code for value {value!r}")


@cache
def code_list(name: str) -> CodeList:
    """Load ``codes/<name>.json`` (``name`` like ``x12/units``)."""
    if ".." in name or name.startswith("/"):
        raise MappingError(f"bad code list name {name!r}")
    path = CODES_DIR / f"{name}.json"
    if not path.is_file():
        raise MappingError(f"unknown code list {name!r}")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return CodeList(
        name=name,
        codes={str(k): str(v) for k, v in raw["codes"].items()},
        default=raw.get("default"),
        passthrough=bool(raw.get("passthrough", False)),
        render={str(k): str(v) for k, v in raw.get("render", {}).items()},
    )
