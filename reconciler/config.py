"""Comparison rules and cut-over gates per partner and document type, read from TOML.

The ``[reconcile]`` section of a partner profile (``fixtures/partners/*.toml``)::

    [reconcile]                 # defaults for every document type of this partner
    grace_hours = 4             # how long the second path may lag the first
    quantity_abs = 0            # |edi - api| allowed for quantities ...
    quantity_rel = 0.0          # ... or this fraction of the larger value
    amount_abs = 0.01
    amount_rel = 0.0
    date_days = 0               # dates may differ by this many days
    decimals = 6                # numbers are rounded to this many decimals first
    case_sensitive = false
    ignore = ["parties.name"]   # fields never compared (element keys left out)

    [reconcile.gate]            # promotion dual -> api
    window_days = 7
    min_documents = 50
    threshold = 0.99

    [reconcile.types.purchase_order]      # overrides for one document type
    quantity_abs = 0.5
    ignore = ["lines.description"]        # added to the partner-wide ignores
    gate = { min_documents = 20 }

    [reconcile.fields]                    # one rule per field (element keys left out)
    "lines.amount" = { compare = "number", abs = 0.01, rel = 0.001 }
    "invoice_date" = { compare = "date", days = 1 }
    "carrier" = { compare = "text" }      # any case, any whitespace
    "packs" = { compare = "set" }         # same elements in any order, whatever their keys
    "parties" = { compare = "ignore", reason = "only the EDI envelope carries them" }
    # also per type: [reconcile.types.invoice.fields]

Gate keys beyond the window: ``no_missing_days`` (no missing copy in the last N days of the
window) and ``auto_promote`` (the partner's policy: promote dual -> api as soon as the gate
passes, without waiting for an operator).

Every problem names the key, so whoever edits the profile can fix it at once.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any


class ConfigError(ValueError):
    """A ``[reconcile]`` section that cannot be used; the message names the key."""


@lru_cache(maxsize=1)
def packaged_defaults() -> dict[str, Any]:
    text = resources.files("reconciler").joinpath("data/defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


@dataclass(frozen=True)
class UnitTable:
    aliases: dict[str, str]
    factors: dict[str, tuple[str, float]]

    def canonical(self, unit: str) -> str:
        code = unit.strip().upper()
        return self.aliases.get(code, code)

    def factor(self, unit: str) -> tuple[str, float] | None:
        return self.factors.get(unit)


def default_units() -> UnitTable:
    raw = packaged_defaults()["units"]
    return UnitTable(dict(raw["aliases"]),
                     {k: (str(v[0]), float(v[1])) for k, v in raw["factors"].items()})


FIELD_RULE_KINDS = ("ignore", "number", "date", "text", "set")


@dataclass(frozen=True)
class FieldRule:
    """How one field is compared, overriding its kind's defaults.

    ``number``: |edi - api| <= max(abs, rel * larger) (units converted first);
    ``date``: at most ``days`` apart; ``text``: equal ignoring case and every blank;
    ``set``: a repeated field whose elements are compared whole, as a set (their order
    and position do not matter); ``ignore``: never compared.
    """

    field: str
    compare: str
    abs: Decimal = Decimal(0)
    rel: Decimal = Decimal(0)
    days: int = 0
    reason: str = ""

    def describe(self) -> str:
        if self.compare == "number":
            parts = [f"{self.abs.normalize():f}"] if self.abs else []
            if self.rel:
                parts.append(f"{(self.rel * 100).normalize():f}%")
            bound = parts[0] if len(parts) == 1 else f"max({', '.join(parts)})" if parts \
                else "0"
            return f"{self.field} |Δ| ≤ {bound}"
        if self.compare == "date":
            return f"{self.field} date ±{self.days} day(s)"
        if self.compare == "text":
            return f"{self.field} text equal (any case, any blanks)"
        if self.compare == "set":
            return f"{self.field} same set of elements"
        return f"{self.field} ignored"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "compare": self.compare}
        if self.compare == "number":
            out["abs"], out["rel"] = float(self.abs), float(self.rel)
        if self.compare == "date":
            out["days"] = self.days
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class Rules:
    """How two copies of one document type are compared."""

    quantity_abs: Decimal = Decimal(0)
    quantity_rel: Decimal = Decimal(0)
    amount_abs: Decimal = Decimal(0)
    amount_rel: Decimal = Decimal(0)
    date_days: int = 0
    decimals: int = 6
    case_sensitive: bool = False
    ignore: frozenset[str] = frozenset()
    grace: timedelta = timedelta(hours=1)
    quantity_fields: frozenset[str] = field(default_factory=lambda: frozenset(
        packaged_defaults()["quantity_fields"]))
    amount_fields: frozenset[str] = field(default_factory=lambda: frozenset(
        packaged_defaults()["amount_fields"]))
    fields: dict[str, FieldRule] = field(default_factory=dict)  # field name -> its rule
    edi_lacks: frozenset[str] = frozenset()  # declared coverage: fields a path never carries
    api_lacks: frozenset[str] = frozenset()

    def with_field_rules(self, rules: dict[str, FieldRule]) -> Rules:
        """These rules with per-field rules laid over (a later rule for a field wins)."""
        return replace(self, fields={**self.fields, **rules})

    def ignores(self, name: str) -> bool:
        """``name`` is a field name without element keys, e.g. ``lines.description``."""
        if name in self.ignore:
            return True
        rule = self.fields.get(name)
        if rule is not None:
            return rule.compare == "ignore"
        if any(r.compare == "ignore" and name.startswith(f + ".")
               for f, r in self.fields.items()):
            return True
        return any(name.startswith(pattern + ".") or _glob(pattern, name)
                   for pattern in self.ignore)


def _glob(pattern: str, name: str) -> bool:
    if "*" not in pattern:
        return False
    from fnmatch import fnmatchcase  # only for the rare wildcard pattern

    return fnmatchcase(name, pattern)


@dataclass(frozen=True)
class GateConfig:
    """Promotion dual -> api needs ``threshold`` agreement over ``window_days`` days and at
    least ``min_documents`` decided documents."""

    window_days: int = 7
    min_documents: int = 50
    threshold: float = 0.99
    no_missing_days: int = 0  # no missing copy (either path) in the window's last N days
    auto_promote: bool = False  # policy: promote as soon as the gate passes

    def to_dict(self) -> dict[str, Any]:
        return {"window_days": self.window_days, "min_documents": self.min_documents,
                "threshold": self.threshold, "no_missing_days": self.no_missing_days,
                "auto_promote": self.auto_promote}


@dataclass(frozen=True)
class ReconcileConfig:
    """Rules and gate per document type, with partner-wide defaults."""

    rules: Rules = field(default_factory=Rules)
    gate: GateConfig = field(default_factory=GateConfig)
    per_type: dict[str, Rules] = field(default_factory=dict)
    gate_per_type: dict[str, GateConfig] = field(default_factory=dict)

    def with_overrides(self, overrides: dict[str, dict[str, FieldRule | None]]
                       ) -> ReconcileConfig:
        """Field rules set by operators (``{"*" or document type: {field: rule or None}}``)
        laid over the file's: a rule replaces the field's, ``None`` removes it."""
        def apply(rules: Rules, changes: dict[str, FieldRule | None]) -> Rules:
            fields = dict(rules.fields)
            for name, rule in changes.items():
                if rule is None:
                    fields.pop(name, None)
                else:
                    fields[name] = rule
            return replace(rules, fields=fields)

        everywhere = overrides.get("*", {})
        rules = apply(self.rules, everywhere)
        per_type = {doc: apply(r, everywhere) for doc, r in self.per_type.items()}
        for doc, changes in overrides.items():
            if doc != "*":
                per_type[doc] = apply(per_type.get(doc, rules), changes)
        return replace(self, rules=rules, per_type=per_type)

    def rules_for(self, document_type: str) -> Rules:
        return self.per_type.get(document_type, self.rules)

    def gate_for(self, document_type: str) -> GateConfig:
        return self.gate_per_type.get(document_type, self.gate)

    @classmethod
    def from_toml(cls, text: str, where: str = "reconcile") -> ReconcileConfig:
        """A whole TOML document holding a ``[reconcile]`` table (or nothing: defaults)."""
        try:
            table = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: not valid TOML: {exc}") from None
        return cls.from_table(table.get("reconcile", {}), where="reconcile")

    @classmethod
    def from_table(cls, table: Any, where: str = "reconcile") -> ReconcileConfig:
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: expected a table")
        unknown = set(table) - _RULE_KEYS - {"gate", "types"}
        if unknown:
            raise ConfigError(f"{where}.{sorted(unknown)[0]}: unknown key; allowed: "
                              f"{', '.join(sorted(_RULE_KEYS | {'gate', 'types'}))}")
        rules = _rules(Rules(), table, where)
        if "fields" in table:
            rules = replace(rules, fields=field_rules(table["fields"], f"{where}.fields"))
        gate = _gate(GateConfig(), table.get("gate", {}), f"{where}.gate")
        types = table.get("types", {})
        if not isinstance(types, dict):
            raise ConfigError(f"{where}.types: expected a table of document types")
        per_type: dict[str, Rules] = {}
        gate_per_type: dict[str, GateConfig] = {}
        for doc, sub in types.items():
            here = f"{where}.types.{doc}"
            if not isinstance(sub, dict):
                raise ConfigError(f"{here}: expected a table")
            bad = set(sub) - _RULE_KEYS - {"gate"}
            if bad:
                raise ConfigError(f"{here}.{sorted(bad)[0]}: unknown key; allowed: "
                                  f"{', '.join(sorted(_RULE_KEYS | {'gate'}))}")
            per_type[doc] = _rules(rules, sub, here, merge_ignore=True)
            if "fields" in sub:
                per_type[doc] = per_type[doc].with_field_rules(
                    field_rules(sub["fields"], f"{here}.fields"))
            if "gate" in sub:
                gate_per_type[doc] = _gate(gate, sub["gate"], f"{here}.gate")
        return cls(rules, gate, per_type, gate_per_type)


_RULE_KEYS = {"quantity_abs", "quantity_rel", "amount_abs", "amount_rel", "date_days",
              "decimals", "case_sensitive", "ignore", "grace_hours", "quantity_fields",
              "amount_fields", "fields", "edi_lacks", "api_lacks"}
_FIELD_RULE_KEYS = {"compare", "abs", "rel", "days", "reason"}


def field_rules(table: Any, where: str) -> dict[str, FieldRule]:
    """``{"lines.amount": {compare = "number", abs = 0.01}, ...}`` -> rules by field."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table of field = {{ compare = ... }}")
    return {name: field_rule(name, spec, f"{where}.{name}") for name, spec in table.items()}


def field_rule(name: str, spec: Any, where: str) -> FieldRule:
    """One field's rule; ``spec`` is a table, or just the compare kind (``"ignore"``)."""
    if not isinstance(name, str) or not name or "[" in name:
        raise ConfigError(f"{where}: a field name like \"lines.quantity\" (no element keys)")
    if isinstance(spec, str):
        spec = {"compare": spec}
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a table like {{ compare = \"number\", "
                          f"abs = 0.5 }}")
    bad = set(spec) - _FIELD_RULE_KEYS
    if bad:
        raise ConfigError(f"{where}.{sorted(bad)[0]}: unknown key; allowed: "
                          f"{', '.join(sorted(_FIELD_RULE_KEYS))}")
    compare = spec.get("compare")
    if compare not in FIELD_RULE_KINDS:
        raise ConfigError(f"{where}.compare: expected one of {', '.join(FIELD_RULE_KINDS)}, "
                          f"got {compare!r}")
    allowed = {"number": {"abs", "rel"}, "date": {"days"}}.get(compare, set())
    stray = (set(spec) - {"compare", "reason"}) - allowed
    if stray:
        raise ConfigError(f"{where}.{sorted(stray)[0]}: does not apply to compare = "
                          f"{compare!r}")
    absolute = _number(spec, "abs", where) if "abs" in spec else Decimal(0)
    relative = _number(spec, "rel", where) if "rel" in spec else Decimal(0)
    if relative > 1:
        raise ConfigError(f"{where}.rel: a relative tolerance is a fraction from 0 to 1 "
                          f"(0.01 = 1%), got {spec['rel']!r}")
    days = _integer(spec, "days", where, 0, 366) if "days" in spec else 0
    reason = spec.get("reason", "")
    if not isinstance(reason, str):
        raise ConfigError(f"{where}.reason: expected a string")
    return FieldRule(name, str(compare), absolute, relative, days, reason)


def _number(table: dict[str, Any], key: str, where: str) -> Decimal:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{where}.{key}: expected a number, got {type(value).__name__}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where}.{key}: expected a number, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ConfigError(f"{where}.{key}: expected a finite number >= 0, got {value!r}")
    return number


def _integer(table: dict[str, Any], key: str, where: str, low: int, high: int) -> int:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where}.{key}: expected a whole number from {low} to {high}, "
                          f"got {value!r}")
    return value


def _names(table: dict[str, Any], key: str, where: str) -> frozenset[str]:
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where}.{key}: expected a list of field names like "
                          f"\"lines.description\"")
    return frozenset(value)


def _rules(base: Rules, table: dict[str, Any], where: str, *, merge_ignore: bool = False
           ) -> Rules:
    changes: dict[str, Any] = {}
    for key in ("quantity_abs", "quantity_rel", "amount_abs", "amount_rel"):
        if key in table:
            changes[key] = _number(table, key, where)
    for key in ("quantity_rel", "amount_rel"):
        if key in changes and changes[key] > 1:
            raise ConfigError(f"{where}.{key}: a relative tolerance is a fraction from 0 to 1 "
                              f"(0.01 = 1%), got {table[key]!r}")
    if "date_days" in table:
        changes["date_days"] = _integer(table, "date_days", where, 0, 366)
    if "decimals" in table:
        changes["decimals"] = _integer(table, "decimals", where, 0, 12)
    if "case_sensitive" in table:
        if not isinstance(table["case_sensitive"], bool):
            raise ConfigError(f"{where}.case_sensitive: expected true or false, "
                              f"got {table['case_sensitive']!r}")
        changes["case_sensitive"] = table["case_sensitive"]
    if "grace_hours" in table:
        hours = _number(table, "grace_hours", where)
        if hours > 24 * 31:
            raise ConfigError(f"{where}.grace_hours: at most {24 * 31} hours, got {hours}")
        changes["grace"] = timedelta(hours=float(hours))
    if "ignore" in table:
        names = _names(table, "ignore", where)
        changes["ignore"] = (base.ignore | names) if merge_ignore else names
    for key in ("quantity_fields", "amount_fields"):
        if key in table:
            changes[key] = _names(table, key, where)
    for key in ("edi_lacks", "api_lacks"):
        if key in table:
            names = _names(table, key, where)
            changes[key] = (getattr(base, key) | names) if merge_ignore else names
    return replace(base, **changes)


def _gate(base: GateConfig, table: Any, where: str) -> GateConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    known = {"window_days", "min_documents", "threshold", "no_missing_days", "auto_promote"}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"{where}.{sorted(unknown)[0]}: unknown key; allowed: "
                          f"{', '.join(sorted(known))}")
    changes: dict[str, Any] = {}
    if "window_days" in table:
        changes["window_days"] = _integer(table, "window_days", where, 1, 366)
    if "min_documents" in table:
        changes["min_documents"] = _integer(table, "min_documents", where, 1, 10_000_000)
    if "threshold" in table:
        value = _number(table, "threshold", where)
        if value > 1:
            raise ConfigError(f"{where}.threshold: a fraction from 0 to 1 (0.99 = 99%), "
                              f"got {table['threshold']!r}")
        changes["threshold"] = float(value)
    if "no_missing_days" in table:
        changes["no_missing_days"] = _integer(table, "no_missing_days", where, 0, 366)
    if "auto_promote" in table:
        if not isinstance(table["auto_promote"], bool):
            raise ConfigError(f"{where}.auto_promote: expected true or false, "
                              f"got {table['auto_promote']!r}")
        changes["auto_promote"] = table["auto_promote"]
    return replace(base, **changes)
