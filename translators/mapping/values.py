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


def parse_x12_date(raw: str, century: str | None = None) -> str:
    """X12 DT: CCYYMMDD (8) or YYMMDD (6, century from DTM05 when sent) -> ISO date."""
    text = _digits(raw, (8, 6))
    if len(text) == 8:
        return _ymd(int(text[:4]), int(text[4:6]), int(text[6:8]), raw)
    cc = century.strip() if century else ""
    year = int(cc) * 100 + int(text[:2]) if cc.isdigit() and len(cc) == 2 \
        else _century(int(text[:2]))
    return _ymd(year, int(text[2:4]), int(text[4:6]), raw)


def parse_x12_time(raw: str) -> str:
    """X12 TM: HHMM, HHMMSS, HHMMSSd, HHMMSSdd -> ISO time (the precision as sent)."""
    text = raw.strip()
    if not text.isdigit() or not text.isascii() or len(text) not in (4, 6, 7, 8):
        raise MappingError(f"{raw!r} is not a time of 4, 6, 7 or 8 digits")
    hour, minute = int(text[:2]), int(text[2:4])
    second = int(text[4:6]) if len(text) >= 6 else 0
    if hour > 23 or minute > 59 or second > 60:
        raise MappingError(f"{raw!r} is not a valid time of day")
    out = f"{text[:2]}:{text[2:4]}"
    if len(text) >= 6:
        out += f":{text[4:6]}"
    if len(text) > 6:
        out += "." + text[6:]
    return out


def _week_start(year: int, week: int, raw: str) -> date:
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        raise MappingError(f"{raw!r} is not a valid ISO week") from None


@dataclass(frozen=True, slots=True)
class Period:
    """A date/time value read with its format code: ``start``/``end`` are the calendar days it
    covers (None when the value names no day: a time alone, a duration, a date without year);
    ``value`` is the whole value in ISO 8601 with the precision the code carries
    ("2026-12-07T14:30", "2026-W49", "2026-12", "P3D", "2026-12-01/2026-12-07")."""

    start: str | None
    end: str | None = None
    value: str = ""
    precision: str = "day"


class UnknownDateFormat(MappingError):
    """A format code (EDIFACT 2379, X12 1250) we have no reading for: a warning, the value is
    left out, the message is not rejected."""


# Width of each part of a format (see codes/*/date_formats.json); the zone takes the rest.
_WIDTHS = {"CCYY": 4, "CC": 2, "YY": 2, "MM": 2, "DD": 2, "DDD": 3, "WW": 2, "D": 1, "Q": 1,
           "S": 1, "P": 1, "A": 1, "hh": 2, "mm": 2, "ss": 2}
_ZONES = ("ZZZ", "ZHHMM")


@cache
def date_formats(standard: str) -> dict[str, dict[str, object]]:
    """The format table of one standard (``codes/<standard>/date_formats.json``)."""
    raw = json.loads((CODES_DIR / standard / "date_formats.json").read_text(encoding="utf-8"))
    return dict(raw["formats"])


def _fields(text: str, parts: list[str], raw: str) -> dict[str, str]:
    fixed = sum(_WIDTHS[p] for p in parts if p not in _ZONES)
    zone = any(p in _ZONES for p in parts)
    seconds_fraction = parts[-1:] == ["ss"] or parts[-2:-1] == ["ss"]
    body = text[:fixed]
    rest = text[fixed:]
    if len(body) != fixed or not body.isdigit() or not body.isascii():
        raise MappingError(f"{raw!r} does not match its format ({''.join(parts)})")
    # X12 TM HHMMSSd..: decimal seconds after the seconds; nothing else may follow.
    if rest and not zone and not (seconds_fraction and rest.isdigit() and rest.isascii()):
        raise MappingError(f"{raw!r} does not match its format ({''.join(parts)})")
    out: dict[str, str] = {}
    position = 0
    for part in parts:
        if part in _ZONES:
            out["zone"] = rest.strip()
            continue
        width = _WIDTHS[part]
        out[part] = body[position:position + width]
        position += width
    if rest and not zone:
        out["fraction"] = rest
    return out


def _year(found: dict[str, str], century: str | None) -> int | None:
    if "CCYY" in found:
        return int(found["CCYY"])
    if "YY" in found:
        yy = int(found["YY"])
        return int(century) * 100 + yy if century and century.isdigit() else _century(yy)
    return None


def _month_end(year: int, month: int) -> date:
    following = (date(year, month, 28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _point(found: dict[str, str], precision: str, raw: str,
           century: str | None) -> tuple[str | None, str | None, str]:
    """(first day, last day, ISO 8601 text) of one value."""
    year = _year(found, century)
    hour = found.get("hh")
    clock = ""
    if hour is not None:
        minute = found.get("mm", "00")
        if int(hour) > 24 or int(minute) > 59 or (int(hour) == 24 and int(minute)) \
                or int(found.get("ss", "0")) > 60:
            raise MappingError(f"{raw!r} is not a valid time of day")
        clock = f"{hour}:{minute}" + (f":{found['ss']}" if "ss" in found else "")
        if "fraction" in found:
            clock += "." + found["fraction"]
        zone = found.get("zone", "")
        if zone:
            clock += zone if zone[:1] in ("+", "-") else f"[{zone}]"
    if year is None:  # a time alone, or a date without its year (106 MMDD ...)
        text = ""
        if "MM" in found and "DD" in found:
            text = f"--{found['MM']}-{found['DD']}"
        elif "MM" in found:
            text = f"--{found['MM']}"
        elif "WW" in found:
            text = f"W{found['WW']}"
        elif "DDD" in found:
            text = found["DDD"]
        elif "DD" in found:
            text = f"---{found['DD']}"
        if clock:
            text = f"{text}T{clock}" if text else clock
        return None, None, text
    if "MM" in found and "DD" in found:
        day = date.fromisoformat(_ymd(year, int(found["MM"]), int(found["DD"]), raw))
    elif "DDD" in found:
        number = int(found["DDD"])
        if not 1 <= number <= (366 if _ymd_ok(year, 2, 29) else 365):
            raise MappingError(f"{raw!r} is not a valid day of the year")
        day = date(year, 1, 1) + timedelta(days=number - 1)
    elif "WW" in found:
        monday = _week_start(year, int(found["WW"]), raw)
        if "D" in found:
            weekday = int(found["D"])
            if not 1 <= weekday <= 7:
                raise MappingError(f"{raw!r} is not a valid day of the week")
            day = monday + timedelta(days=weekday - 1)
            return day.isoformat(), None, day.isoformat()
        return (monday.isoformat(), (monday + timedelta(days=6)).isoformat(),
                f"{year:04d}-W{int(found['WW']):02d}")
    elif "MM" in found:
        month = int(found["MM"])
        first = date.fromisoformat(_ymd(year, month, 1, raw))
        last = _month_end(year, month)
        if "P" in found:  # half month: 1 = days 1-15, 2 = the rest
            half = int(found["P"])
            if half not in (1, 2):
                raise MappingError(f"{raw!r} is not a valid half month")
            first, last = (first, first.replace(day=15)) if half == 1 else \
                (first.replace(day=16), last)
            return first.isoformat(), last.isoformat(), f"{first.isoformat()}/{last.isoformat()}"
        if "A" in found:  # ten days: 1 = 1-10, 2 = 11-20, 3 = the rest
            tens = int(found["A"])
            if tens not in (1, 2, 3):
                raise MappingError(f"{raw!r} is not a valid ten-day period")
            first = first.replace(day=10 * (tens - 1) + 1)
            last = last if tens == 3 else first.replace(day=10 * tens)
            return first.isoformat(), last.isoformat(), f"{first.isoformat()}/{last.isoformat()}"
        return first.isoformat(), last.isoformat(), f"{year:04d}-{month:02d}"
    elif "Q" in found or "S" in found:
        size = 3 if "Q" in found else 6
        number = int(found.get("Q") or found["S"])
        if not 1 <= number <= 12 // size:
            raise MappingError(f"{raw!r} is not a valid quarter or semester")
        first = date(year, size * (number - 1) + 1, 1)
        last = _month_end(year, size * number)
        return first.isoformat(), last.isoformat(), f"{first.isoformat()}/{last.isoformat()}"
    elif "CC" in found and "CCYY" not in found and "YY" not in found:
        first_year = int(found["CC"]) * 100
        return (date(max(first_year, 1), 1, 1).isoformat(), date(first_year + 99, 12, 31)
                .isoformat(), found["CC"])
    else:  # a year
        return date(year, 1, 1).isoformat(), date(year, 12, 31).isoformat(), f"{year:04d}"
    text = day.isoformat()
    if clock:
        text = f"{text}T{clock}"
    return day.isoformat(), None, text


def _ymd_ok(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def read_period(raw: str, fmt: str, standard: str = "edifact",
                century: str | None = None) -> Period:
    """A date/time/period value with its format code (EDIFACT 2379, X12 1250), read by the
    table in ``codes/<standard>/date_formats.json``. Raises :class:`UnknownDateFormat` for a
    code the table does not have, :class:`MappingError` for a value that does not fit."""
    table = date_formats(standard)
    text = raw.strip()
    spec = table.get(fmt.strip())
    if spec is None:
        raise UnknownDateFormat(f"{standard.upper()} date/time format {fmt!r} is not known "
                                f"(value {raw!r} left out)")
    lenient = spec.get("lenient_lengths")
    if isinstance(lenient, dict) and str(len(text)) in lenient:
        # Senders mix 102/203/204 up (a 102 with a time appended); the digits decide.
        spec = table[lenient[str(len(text))]]
    precision = str(spec.get("precision", "day"))
    if "duration" in spec:
        number = text.replace(",", ".")
        try:
            amount = Decimal(number) * int(spec.get("factor", 1))  # type: ignore[call-overload]
        except InvalidOperation:
            raise MappingError(f"{raw!r} is not a number of time units") from None
        unit = str(spec["duration"])
        amount_text = format_number(amount)
        value = f"PT{amount_text}{unit[1:]}" if unit.startswith("T") else \
            f"P{amount_text}{unit}"
        return Period(None, None, value, "duration")
    if "range" in spec:
        parts = list(spec["range"])  # type: ignore[call-overload]
        width = sum(_WIDTHS.get(p, 0) for p in parts)
        first_text, second_text = text[:width], text[width + 1:]
        if text[width:width + 1] != "-" or not second_text:
            raise MappingError(f"{raw!r} is not a range of two {''.join(parts)} values")
        a = _point(_fields(first_text, parts, raw), precision, raw, century)
        b = _point(_fields(second_text, parts, raw), precision, raw, century)
        return Period(a[0], b[1] or b[0], f"{a[2]}/{b[2]}", precision)
    parts = list(spec["parts"])  # type: ignore[call-overload]
    if "end_parts" in spec:  # X12 RDM: CCYYMMDD-MMDD
        head, _, tail = text.partition("-")
        a = _point(_fields(head, parts, raw), precision, raw, century)
        end_fields = _fields(tail, list(spec["end_parts"]), raw)  # type: ignore[call-overload]
        end_fields["CCYY"] = head[:4]
        b = _point(end_fields, precision, raw, century)
        return Period(a[0], b[0], f"{a[2]}/{b[2]}", precision)
    first, last, value = _point(_fields(text, parts, raw), precision, raw, century)
    return Period(first, last, value, precision)


def parse_edifact_period(raw: str, fmt: str) -> Period:
    """EDIFACT DTM C507 value with its format code (2379) -> ISO start (and end for periods).

    Payload date fields are calendar dates: ``start``/``end`` are the days the value covers;
    the full value keeps its time, week, month ... in ``value``."""
    try:
        return read_period(raw, fmt.strip() or "102", "edifact")
    except OverflowError:  # (a week or month at the end of year 9999)
        raise MappingError(f"{raw!r} is beyond the calendar") from None


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
