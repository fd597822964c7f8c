"""Which fields each path of a partner's document type carries.

Real EDI subsets never carry some fields the API has (an X12 810 without TXI has no tax
amount), and the API may leave out what only the EDI envelope carries. Such a field is not a
disagreement: it cannot be compared. Coverage is learned from the documents themselves: a field
(named without element keys, ``lines.amount``) is carried by a path when at least one of its
documents has a value there. A field carried by one path only is *not comparable*: reported
with its coverage, never counted as a mismatch. What both paths carry is compared, and a
document that leaves out a field its path normally carries is still a real "missing" mismatch.

Coverage is also declared, before any document is seen:

- by the partner's EDI map and guide overlays (``declared``: per path, every field the path
  *can* fill; the gateway reads it from the maps and passes it in as data): a field outside
  it is not comparable from the first document on, whatever a run happens to contain. A
  field inside it is carried once a document of the path has shown it (a partner's subset
  may never send what its map could read);
- by operators (``[reconcile] edi_lacks = [...]`` / ``api_lacks``) for a field the documents
  seen so far do not settle.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import API, EDI

SAMPLE = 5000  # documents per path looked at: coverage is a property of the map, not of volume


def carried_fields(data: Mapping[str, Any], prefix: str = "",
                   out: set[str] | None = None) -> set[str]:
    """Every field name (and every enclosing name) with a non-empty value in ``data``."""
    found: set[str] = set() if out is None else out
    for key, value in data.items():
        if value is None or (not value and isinstance(value, str | list | dict)):
            continue
        name = f"{prefix}.{key}" if prefix else key
        found.add(name)
        if isinstance(value, dict):
            carried_fields(value, name, found)
        elif isinstance(value, list):
            for element in value:
                if isinstance(element, dict):
                    carried_fields(element, name, found)
    return found


@dataclass
class Coverage:
    """Field coverage of one document type on both paths."""

    document_type: str
    documents: Counter[str] = field(default_factory=Counter)  # path -> documents seen
    fields: dict[str, Counter[str]] = field(
        default_factory=lambda: {EDI: Counter(), API: Counter()})  # path -> field -> documents
    lacks: dict[str, frozenset[str]] = field(default_factory=dict)  # declared, per path
    # Per path, every field it can carry (its map); a path absent here is learned only.
    declared: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def add(self, path: str, data: Mapping[str, Any]) -> None:
        self.documents[path] += 1
        self.fields[path].update(carried_fields(data))

    def extend(self, path: str, documents: Iterable[Mapping[str, Any]]) -> Coverage:
        for n, data in enumerate(documents):
            if n >= SAMPLE:
                break
            self.add(path, data)
        return self

    def can_carry(self, path: str, name: str) -> bool:
        """What the path's map and the operators' declarations allow, before any document."""
        if name in self.lacks.get(path, ()):
            return False
        declared = self.declared.get(path)
        return declared is None or name in declared

    def carries(self, path: str, name: str) -> bool:
        return self.can_carry(path, name) and self.fields[path][name] > 0

    def comparable(self, name: str) -> bool:
        """Both paths carry it (or neither does, and then there is nothing to compare)."""
        return self.carries(EDI, name) == self.carries(API, name)

    def ratio(self, path: str, name: str) -> float:
        seen = self.documents[path]
        return self.fields[path][name] / seen if seen and self.carries(path, name) else 0.0

    def why_not(self, path: str, name: str) -> str:
        """Why ``path`` does not carry ``name`` ("" when it does)."""
        if name in self.lacks.get(path, ()):
            return "declared lacking"
        if not self.can_carry(path, name):
            return "not in the map"
        return "" if self.carries(path, name) else "not seen"

    def describe(self, name: str) -> dict[str, Any]:
        lacking = API if self.carries(EDI, name) else EDI
        return {"field": name, "edi": round(self.ratio(EDI, name), 4),
                "api": round(self.ratio(API, name), 4),
                "edi_documents": self.documents[EDI], "api_documents": self.documents[API],
                "carried_by": EDI if self.carries(EDI, name) else API,
                "reason": f"{lacking}: {self.why_not(lacking, name)}"}
