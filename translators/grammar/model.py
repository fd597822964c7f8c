"""The compiled, immutable form of a message grammar (built by :mod:`translators.grammar.loader`).

Positions are 1-based like the standards. ``req`` is "M" (mandatory), "O" (optional; X12 "O"
and "X", EDIFACT "C") or "N" (not used: a partner overlay forbids it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

UNBOUNDED = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ElementDef:
    ref: str  # data element reference ("353", "1004") or composite id ("C001", "C507")
    req: str
    type: str  # X12: AN ID DT TM N0..N9 R B; EDIFACT: a n an; "" for a composite
    min: int
    max: int
    repeat: int = 1  # allowed repetitions (X12 005010 repeating elements)
    codes: frozenset[str] | None = None  # allowed values when we interpret the qualifier
    components: tuple[ElementDef, ...] = ()  # non-empty for a composite
    codelist: str = ""  # the code list name behind ``codes`` (for messages)

    @property
    def is_composite(self) -> bool:
        return bool(self.components)


@dataclass(frozen=True, slots=True)
class SyntaxRule:
    """X12 syntax note / EDIFACT dependency note over element positions of one segment.

    P paired (all or none), R required (at least one), E exclusion (at most one), C conditional
    (if the first, then all others), L list conditional (if the first, at least one other)."""

    kind: str
    positions: tuple[int, ...]

    @property
    def text(self) -> str:
        return self.kind + "".join(f"{p:02d}" for p in self.positions)


@dataclass(frozen=True, slots=True)
class SegmentDef:
    tag: str
    name: str
    elements: tuple[ElementDef, ...]
    rules: tuple[SyntaxRule, ...] = ()


@dataclass(frozen=True, slots=True)
class SegmentNode:
    tag: str
    req: str
    max: int

    @property
    def trigger(self) -> str:
        return self.tag


@dataclass(frozen=True, slots=True)
class LoopNode:
    """A loop (X12) or segment group (EDIFACT): the first child's tag starts a new instance."""

    name: str
    req: str
    max: int
    children: tuple[SegmentNode | LoopNode, ...]

    @property
    def trigger(self) -> str:
        return self.children[0].trigger


Node = SegmentNode | LoopNode


@dataclass(frozen=True, slots=True)
class HierarchyDef:
    """X12 HL trees: which level codes (HL03) may sit under which parent levels."""

    segment: str  # "HL"
    parents: dict[str, tuple[str, ...]]  # level code -> allowed parent level codes ("" = root)


@dataclass(frozen=True, slots=True)
class Grammar:
    standard: str
    message: str
    version: str
    name: str
    functional_id: str
    segments: dict[str, SegmentDef]  # every segment the message may carry
    root: LoopNode  # the whole message, header and trailer included
    hierarchy: HierarchyDef | None = None
    dictionary: frozenset[str] = field(default_factory=frozenset)  # every tag of the standard
    source: str = ""  # the grammar file(s) it came from
    overlays: tuple[str, ...] = ()  # names of the partner overlays applied
