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

    def ignores(self, name: str) -> bool:
        """``name`` is a field name without element keys, e.g. ``lines.description``."""
        if name in self.ignore:
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


@dataclass(frozen=True)
class ReconcileConfig:
    """Rules and gate per document type, with partner-wide defaults."""

    rules: Rules = field(default_factory=Rules)
    gate: GateConfig = field(default_factory=GateConfig)
    per_type: dict[str, Rules] = field(default_factory=dict)
    gate_per_type: dict[str, GateConfig] = field(default_factory=dict)

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
            raise ConfigError(f"{where}.{sorted(unknown)[0]}: unknown key; known: "
                              f"{', '.join(sorted(_RULE_KEYS | {'gate', 'types'}))}")
        rules = _rules(Rules(), table, where)
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
                raise ConfigError(f"{here}.{sorted(bad)[0]}: unknown key")
            per_type[doc] = _rules(rules, sub, here, merge_ignore=True)
            if "gate" in sub:
                gate_per_type[doc] = _gate(gate, sub["gate"], f"{here}.gate")
        return cls(rules, gate, per_type, gate_per_type)


_RULE_KEYS = {"quantity_abs", "quantity_rel", "amount_abs", "amount_rel", "date_days",
              "decimals", "case_sensitive", "ignore", "grace_hours", "quantity_fields",
              "amount_fields"}


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
            raise ConfigError(f"{where}.case_sensitive: expected true or false")
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
    return replace(base, **changes)


def _gate(base: GateConfig, table: Any, where: str) -> GateConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    unknown = set(table) - {"window_days", "min_documents", "threshold"}
    if unknown:
        raise ConfigError(f"{where}.{sorted(unknown)[0]}: unknown key; known: min_documents, "
                          "threshold, window_days")
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
    return replace(base, **changes)
