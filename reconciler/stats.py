"""Agreement statistics per partner, document type and day.

Agreement = matches / decided results, where decided leaves out ``pending`` (the other path
still has time). Mismatches, late copies, duplicates and missing copies all count against it:
each would put a wrong or a doubled document in front of the planner after cut-over.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reconciler.model import Outcome, Result

StatsKey = tuple[str, str, date]  # (partner, document type, day)


@dataclass
class DayStats:
    partner_id: str
    document_type: str
    day: date
    counts: Counter[str] = field(default_factory=Counter)
    fields: Counter[str] = field(default_factory=Counter)  # differing field -> documents
    uncompared: Counter[str] = field(default_factory=Counter)  # one path only -> documents
    kinds: Counter[str] = field(default_factory=Counter)  # field|kind -> differences
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> one pair

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def decided(self) -> int:
        return self.total - self.counts[Outcome.PENDING.value]

    @property
    def matches(self) -> int:
        return self.counts[Outcome.MATCH.value]

    @property
    def agreement(self) -> float | None:
        return self.matches / self.decided if self.decided else None

    def top_fields(self, n: int = 5) -> list[tuple[str, int]]:
        return sorted(self.fields.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def add(self, result: Result) -> None:
        self.counts[result.outcome] += 1  # a StrEnum: the same key as its string value
        if result.differences or result.uncompared:
            self.detail(result)

    def detail(self, result: Result) -> None:
        """Per field: documents, the kind of each difference, one example pair."""
        # A field counts once per document, however many lines differ in it.
        for name in {d.field for d in result.differences}:
            self.fields[name] += 1
        for d in result.differences:
            name = d.field
            self.kinds[f"{name}|{d.kind}"] += 1
            known = self.examples.get(name)
            if known is None or _example_order(d.path, d.edi, d.api, result.business_key) < \
                    _example_order(known["path"], known["edi"], known["api"],
                                   known["business_key"]):
                self.examples[name] = {
                    "business_key": result.business_key, "path": d.path, "kind": d.kind,
                    "edi": d.edi, "api": d.api, "rule": d.rule,
                    "edi_event_id": result.edi_id, "api_event_id": result.api_id}
        self.uncompared.update(result.uncompared)

    def merge(self, other: DayStats) -> None:
        self.counts.update(other.counts)
        self.fields.update(other.fields)
        self.uncompared.update(other.uncompared)
        self.kinds.update(other.kinds)
        for name, example in other.examples.items():
            known = self.examples.get(name)
            if known is None or _example_order(example["path"], example["edi"], example["api"],
                                               example["business_key"]) < _example_order(
                    known["path"], known["edi"], known["api"], known["business_key"]):
                self.examples[name] = example

    def field_report(self) -> list[dict[str, Any]]:
        """Per differing field: documents, differences by kind, an example pair."""
        kinds: dict[str, dict[str, int]] = {}
        for key, n in self.kinds.items():
            name, _, kind = key.partition("|")
            kinds.setdefault(name, {})[kind] = n
        return [{"field": name, "documents": n, "kinds": dict(sorted(kinds.get(name, {})
                                                                      .items())),
                 "example": self.examples.get(name)}
                for name, n in sorted(self.fields.items(), key=lambda kv: (-kv[1], kv[0]))]

    def to_dict(self, top: int = 5) -> dict[str, Any]:
        return {"partner_id": self.partner_id, "document_type": self.document_type,
                "day": self.day.isoformat(),
                "counts": {o.value: self.counts[o.value] for o in Outcome},
                "total": self.total, "decided": self.decided, "agreement": self.agreement,
                "top_fields": [{"field": f, "documents": n} for f, n in self.top_fields(top)],
                "not_comparable": dict(sorted(self.uncompared.items()))}


def _example_order(path: str, edi: Any, api: Any, key: str) -> tuple[str, str, str, str]:
    """Which difference of a field is its example: by what differs first, the document's key
    last (keys may be random, e.g. order numbers; the example must not depend on them)."""
    return path, repr(edi), repr(api), key


class Statistics:
    """Accumulates results; ``rows()`` gives one :class:`DayStats` per partner, type and day."""

    def __init__(self) -> None:
        self._rows: dict[StatsKey, DayStats] = {}

    def add(self, result: Result) -> None:
        key = (result.partner_id, result.document_type, result.day)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = DayStats(*key)
        row.add(result)

    def extend(self, results: Iterable[Result]) -> Statistics:
        # add() unrolled: this loop sees every result of a run (one per document), and two
        # method calls per result cost as much as the counting itself.
        rows = self._rows
        for result in results:
            key = (result.partner_id, result.document_type, result.day)
            row = rows.get(key)
            if row is None:
                row = rows[key] = DayStats(*key)
            row.counts[result.outcome] += 1
            if result.differences or result.uncompared:
                row.detail(result)
        return self

    def rows(self) -> list[DayStats]:
        return [self._rows[k] for k in sorted(self._rows)]


def summarize(rows: Iterable[DayStats], *, partner_id: str = "",
              document_type: str = "") -> DayStats:
    """Several days (or types) folded into one row; its ``day`` is the earliest one."""
    rows = list(rows)
    first = min((r.day for r in rows), default=date.min)
    total = DayStats(partner_id, document_type, first)
    for row in rows:
        total.merge(row)
    return total
