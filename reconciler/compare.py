"""Field-by-field comparison of two copies of one document, after normalisation.

Normalisation makes equal what only looks different: surrounding and repeated blanks, letter
case (unless the rules say case matters), unit aliases and convertible units (1 KGM = 1000
GRM), decimal precision (10.5 = "10.50"), and a date against a datetime on the same day.
Tolerances then decide whether what remains is close enough: absolute or relative for
quantities and amounts, a number of days for dates. Ignored fields are never looked at.

List elements are paired by their identifying fields (``lines`` by ``line_number``...; see
``data/defaults.toml``), so a reordered list still matches and a difference names its line:
``lines[20].quantity``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from reconciler.config import FieldRule, Rules, UnitTable, default_units, packaged_defaults
from reconciler.model import FieldDifference

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
IGNORED, QUANTITY, AMOUNT, PLAIN, RULE = "ignored", "quantity", "amount", "plain", "rule"
MISSING = ("missing_field", "missing_line")  # rules that say one side has no value at all


def _empty(value: Any) -> bool:
    # EDI leaves optional elements out where JSON may send null or "": all mean "no value".
    # (Written as "falsy and a str, list or dict": the same answer for JSON values as
    # comparing with "", [] and {}, in one test for the usual non-empty value.)
    return value is None or (not value and isinstance(value, str | list | dict))


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 40:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _when(value: str) -> date | datetime | None:
    text = value.strip()
    if not _DATE_RE.match(text) or len(text) > 40:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _key_text(value: Any) -> str:
    if type(value) is int:  # line numbers, mostly (bool is not int here, as below)
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        # EDI often pads line numbers ("0010"); the API sends 10.
        return str(int(text)) if text.isdigit() else text.casefold()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _loose(value: Any) -> str:
    """Text compared with any case and no blanks at all."""
    return "".join(str(value).split()).casefold()


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _canon(value: Any) -> Any:
    """A hashable normal form: empty values dropped, text loose, numbers by value."""
    if isinstance(value, dict):
        return tuple(sorted((k, _canon(v)) for k, v in value.items() if not _empty(v)))
    if isinstance(value, list):
        return tuple(_canon(v) for v in value)
    number = _number(value)
    if number is not None:
        return ("#", str(number.normalize()))
    if isinstance(value, str):
        return _loose(value)
    return value


def _percent(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f}%"


def _by_identity(elements: list[Any], fields: list[str]) -> dict[str, dict[str, Any]] | None:
    index: dict[str, dict[str, Any]] = {}
    if len(fields) == 1:  # the usual key (line_number...): no parts to join
        field = fields[0]
        for element in elements:
            if not isinstance(element, dict):
                return None
            value = element.get(field)
            if type(value) is int:  # never empty; _key_text's first case, without the call
                ident = str(value)
            elif _empty(value):
                return None
            else:
                ident = _key_text(value)
            if ident in index:
                return None
            index[ident] = element
        return index
    for element in elements:
        if not isinstance(element, dict):
            return None
        parts = []
        for f in fields:
            value = element.get(f)
            if _empty(value):
                return None
            parts.append(_key_text(value))
        ident = "/".join(parts)
        if ident in index:
            return None
        index[ident] = element
    return index


class Comparator:
    """Compares documents of one type under one set of rules; reuse it for many pairs."""

    def __init__(self, rules: Rules, units: UnitTable | None = None,
                 list_keys: dict[str, list[list[str]]] | None = None) -> None:
        self.rules = rules
        self.units = units or default_units()
        self.list_keys = list_keys if list_keys is not None else \
            packaged_defaults()["list_keys"]
        self._kinds: dict[str, str] = {}
        self._quantum = Decimal(1).scaleb(-rules.decimals)
        self._quantity_rule = self._tolerance_rule(QUANTITY, rules.quantity_abs,
                                                   rules.quantity_rel)
        self._amount_rule = self._tolerance_rule(AMOUNT, rules.amount_abs, rules.amount_rel)
        self._date_rule = (f"date ±{rules.date_days} day(s)" if rules.date_days
                           else "date equal")
        self._text_rule = "text equal (trimmed)" if rules.case_sensitive \
            else "text equal (trimmed, any case)"

    def _tolerance_rule(self, kind: str, absolute: Decimal, relative: Decimal) -> str:
        if not absolute and not relative:
            return f"{kind} equal ({self.rules.decimals} decimals)"
        if not relative:
            return f"{kind} |Δ| ≤ {absolute.normalize():f}"
        if not absolute:
            return f"{kind} |Δ| ≤ {_percent(relative)}"
        return f"{kind} |Δ| ≤ max({absolute.normalize():f}, {_percent(relative)})"

    def compare(self, edi: dict[str, Any], api: dict[str, Any]) -> list[FieldDifference]:
        """Every difference left after normalisation and tolerances; ``[]`` means they agree."""
        if edi == api:  # the common case, answered at C speed
            return []
        return self.differences(edi, api)

    def differences(self, edi: dict[str, Any], api: dict[str, Any]) -> list[FieldDifference]:
        """:meth:`compare` for two documents already known to be unequal (the engine has
        compared them once; a deep comparison costs as much as the rest of a pair)."""
        out: list[FieldDifference] = []
        self._dict(edi, api, "", "", out)
        return out

    # -- structure -------------------------------------------------------------------------

    def _kind(self, name: str, key: str) -> str:
        kind = self._kinds.get(name)
        if kind is None:
            rules = self.rules
            if rules.ignores(name):
                kind = IGNORED
            elif name in rules.fields:
                kind = RULE
            elif key in rules.quantity_fields or name in rules.quantity_fields:
                kind = QUANTITY
            elif key in rules.amount_fields or name in rules.amount_fields:
                kind = AMOUNT
            else:
                kind = PLAIN
            self._kinds[name] = kind
        return kind

    def _dict(self, a: dict[str, Any], b: dict[str, Any], path: str, name: str,
              out: list[FieldDifference]) -> None:
        scale: Decimal | None = None
        if "unit" in a or "unit" in b:
            scale = self._units(a.get("unit"), b.get("unit"), path, name, out)
        field = self._field
        for key, va in a.items():
            if key == "unit":
                continue
            vb = b.get(key)
            if scale is None:
                if va != vb:
                    field(key, va, vb, path, name, None, False, out)
            else:  # equal quantities still need converting: 1 KGM is not 1 GRM
                field(key, va, vb, path, name, scale, va == vb, out)
        for key, vb in b.items():
            if key not in a and key != "unit" and (vb is not None or scale is not None):
                field(key, None, vb, path, name, scale, vb is None, out)

    def _field(self, key: str, va: Any, vb: Any, path: str, name: str, scale: Decimal | None,
               equal: bool, out: list[FieldDifference]) -> None:
        """One key of a dict; ``equal``: whether ``va == vb`` (the caller has compared)."""
        child_name = f"{name}.{key}" if name else key
        kind = self._kind(child_name, key)
        if kind is IGNORED or (equal and kind is not QUANTITY):
            return
        child_path = f"{path}.{key}" if path else key
        if kind is RULE:
            self._rule(self.rules.fields[child_name], va, vb, child_path,
                       scale if key in self.rules.quantity_fields else None, out)
            return
        self._value(va, vb, child_path, child_name, kind,
                    scale if kind is QUANTITY else None, out)

    def _units(self, ua: Any, ub: Any, path: str, name: str,
               out: list[FieldDifference]) -> Decimal | None:
        """The factor that turns the API side's quantities into the EDI side's unit."""
        if ua == ub:  # the usual case; whether units are ignored matters only when they differ
            return None
        unit_path = f"{path}.unit" if path else "unit"
        unit_name = f"{name}.unit" if name else "unit"
        if self._kind(unit_name, "unit") is IGNORED:
            return None
        if _empty(ua) or _empty(ub) or not isinstance(ua, str) or not isinstance(ub, str):
            if not (_empty(ua) and _empty(ub)):
                out.append(FieldDifference(unit_path, ua, ub, "missing_field"
                                           if _empty(ua) or _empty(ub) else "unit"))
            return None
        ca, cb = self.units.canonical(ua), self.units.canonical(ub)
        if ca == cb:
            return None
        fa, fb = self.units.factor(ca), self.units.factor(cb)
        if fa is not None and fb is not None and fa[0] == fb[0]:
            return Decimal(repr(fb[1])) / Decimal(repr(fa[1]))
        out.append(FieldDifference(unit_path, ua, ub, "unit (same code or convertible)"))
        return None

    def _value(self, va: Any, vb: Any, path: str, name: str, kind: str,
               scale: Decimal | None, out: list[FieldDifference]) -> None:
        if _empty(va) or _empty(vb):
            if not (_empty(va) and _empty(vb)):
                out.append(FieldDifference(path, va, vb, "missing_field"))
            return
        if isinstance(va, dict) and isinstance(vb, dict):
            self._dict(va, vb, path, name, out)
            return
        if isinstance(va, list) and isinstance(vb, list):
            self._list(va, vb, path, name, out)
            return
        if isinstance(va, dict | list) or isinstance(vb, dict | list):
            out.append(FieldDifference(path, va, vb, "same shape"))
            return
        if kind is not PLAIN or not (isinstance(va, str) and isinstance(vb, str)):
            na, nb = _number(va), _number(vb)
            if na is not None and nb is not None:
                self._numbers(va, vb, na, nb, path, kind, scale, out)
                return
        if isinstance(va, str) and isinstance(vb, str):
            self._strings(va, vb, path, out)
            return
        out.append(FieldDifference(path, va, vb, "equal"))

    def _list(self, a: list[Any], b: list[Any], path: str, name: str,
              out: list[FieldDifference]) -> None:
        indexes = self._index(name.rsplit(".", 1)[-1], a, b)
        if indexes is None:
            for index in range(max(len(a), len(b))):
                va = a[index] if index < len(a) else None
                vb = b[index] if index < len(b) else None
                if va == vb:
                    continue
                self._value(va, vb, f"{path}[{index}]", name, PLAIN, None, out)
            return
        index_a, index_b = indexes
        for ident, ea in index_a.items():
            eb = index_b.get(ident)
            if eb is None:
                out.append(FieldDifference(f"{path}[{ident}]", ea, None, "missing_line"))
            elif ea != eb:
                self._dict(ea, eb, f"{path}[{ident}]", name, out)
        for ident, eb in index_b.items():
            if ident not in index_a:
                out.append(FieldDifference(f"{path}[{ident}]", None, eb, "missing_line"))

    def _index(self, key: str, a: list[Any], b: list[Any]
               ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]] | None:
        """Both lists' elements by their identity, with the first candidate key that names
        every element of both lists uniquely; ``None``: pair by position."""
        for candidate in self.list_keys.get(key, ()):
            index_a = _by_identity(a, candidate)
            if index_a is not None:
                index_b = _by_identity(b, candidate)
                if index_b is not None:
                    return index_a, index_b
        return None

    # -- per-field rules -------------------------------------------------------------------

    def _rule(self, rule: FieldRule, va: Any, vb: Any, path: str, scale: Decimal | None,
              out: list[FieldDifference]) -> None:
        if _empty(va) or _empty(vb):
            if not (_empty(va) and _empty(vb)):
                out.append(FieldDifference(path, va, vb, "missing_field"))
            return
        compare = rule.compare
        if compare == "number":
            na, nb = _number(va), _number(vb)
            if na is not None and nb is not None:
                if scale is not None:
                    nb = nb * scale
                delta = abs(na - nb)
                if delta <= max(rule.abs, rule.rel * max(abs(na), abs(nb))):
                    return
                out.append(FieldDifference(path, va, vb, rule.describe()))
                return
        elif compare == "date":
            da = _when(va) if isinstance(va, str) else None
            db = _when(vb) if isinstance(vb, str) else None
            if da is not None and db is not None:
                day_a = da.date() if isinstance(da, datetime) else da
                day_b = db.date() if isinstance(db, datetime) else db
                if abs((day_a - day_b).days) > rule.days:
                    out.append(FieldDifference(path, va, vb, rule.describe()))
                return
        elif compare == "text":
            if _loose(va) != _loose(vb):
                out.append(FieldDifference(path, va, vb, rule.describe()))
            return
        elif compare == "set":
            ea = _as_list(va)
            eb = _as_list(vb)
            sa, sb = {_canon(e): e for e in ea}, {_canon(e): e for e in eb}
            only_a = [sa[k] for k in sa if k not in sb]
            only_b = [sb[k] for k in sb if k not in sa]
            if only_a or only_b:
                out.append(FieldDifference(path, only_a, only_b, rule.describe()))
            return
        if va != vb:  # a rule that does not fit the values (a number rule on text)
            out.append(FieldDifference(path, va, vb, rule.describe()))

    # -- leaves ----------------------------------------------------------------------------

    def _numbers(self, va: Any, vb: Any, na: Decimal, nb: Decimal, path: str, kind: str,
                 scale: Decimal | None, out: list[FieldDifference]) -> None:
        if scale is not None:
            nb = nb * scale
        ra, rb = na.quantize(self._quantum), nb.quantize(self._quantum)
        if ra == rb:
            return
        delta = abs(ra - rb)
        rules = self.rules
        if kind is QUANTITY:
            absolute, relative, rule = rules.quantity_abs, rules.quantity_rel, \
                self._quantity_rule
        elif kind is AMOUNT:
            absolute, relative, rule = rules.amount_abs, rules.amount_rel, self._amount_rule
        else:
            absolute, relative, rule = Decimal(0), Decimal(0), \
                f"number equal ({rules.decimals} decimals)"
        if delta <= max(absolute, relative * max(abs(ra), abs(rb))):
            return
        if scale is not None:
            rule += " after unit conversion"
        out.append(FieldDifference(path, va, vb, rule))

    def _strings(self, va: str, vb: str, path: str, out: list[FieldDifference]) -> None:
        da = _when(va)
        db = _when(vb) if da is not None else None
        if da is not None and db is not None:
            if self._dates_agree(da, db):
                return
            out.append(FieldDifference(path, va, vb, self._date_rule))
            return
        ta, tb = " ".join(va.split()), " ".join(vb.split())
        if not self.rules.case_sensitive:
            ta, tb = ta.casefold(), tb.casefold()
        if ta != tb:
            out.append(FieldDifference(path, va, vb, self._text_rule))

    def _dates_agree(self, da: date | datetime, db: date | datetime) -> bool:
        days = self.rules.date_days
        if isinstance(da, datetime) and isinstance(db, datetime):
            return abs(da - db) <= timedelta(days=days)
        # A date against a datetime: the datetime's calendar day in its own offset.
        day_a = da.date() if isinstance(da, datetime) else da
        day_b = db.date() if isinstance(db, datetime) else db
        return abs((day_a - day_b).days) <= days
