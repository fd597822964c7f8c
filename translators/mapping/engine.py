"""The declarative mapping engine: one JSON map file turns one message into one payload dict.

A map names *where* a value lives (segment tag, qualifier conditions, element/component), *what
it is* (string, number, date, code list) and *where it goes* (a dotted payload path). Loops are
described by their first segment and their member segments, exactly like a grammar describes a
segment group, so the engine needs no knowledge of any particular message. Hierarchies that are
linked by id rather than by position (X12 HL, EDIFACT CPS) are declared with ``hierarchy``.

Map file layout (see ``maps/x12/850.json`` for a complete example)::

    {"standard": "x12", "message": "850", "event_type": "purchase_order", "version": 1,
     "hierarchy": {"segment": "HL", "id": "1", "parent": "2", "level": "3", "end": ["CTT"]},
     "fields": [RULE, ...],                      # fields of the message itself
     "lists": {"lines": LOOP, ...},              # repeated structures
     "derive": [OP, ...]}                        # reshaping after extraction (nesting, projection)

    LOOP = {"start": "PO1", "members": ["PID", ...], "where": {...}, "levels": ["O"],
            "fields": [RULE, ...], "lists": {...}}
    RULE = {"field": "order_date", "seg": "DTM", "where": {"1": "002"}, "el": "2",
            "type": "x12_date" | "edifact_date" | "number" | "string",
            "codes": "x12/purpose", "from": "root", "part": "start" | "end", ...}

Rules for the same field are alternatives: the first one that yields a value wins.

Speed: a map stays a data file, but it is compiled once per process (``_ScopePlan``): each rule
becomes a closure with its addresses bound, and the rules of each loop become one generated
function that applies them in order, reading the common rule shapes straight from the split
segment text (``ElementCodec.cells``) instead of decoding every segment into element lists.
The two hottest loops, splitting a scope into loop instances and mapping the instances of a
loop without child loops (order lines: most of the work), run in the optional C module
``_accel`` when it was built (see ``_accel_plan``), and so do the field rules of the other
scopes. It gives exactly what the Python path gives; the environment variable
EDIGATE_NO_C_ACCEL=1 (or ``accelerate = False``) turns it off.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache, partial
from pathlib import Path
from typing import Any

from translators.mapping.values import (
    CodeList,
    MappingError,
    UnknownDateFormat,
    code_list,
    parse_edifact_period,
    parse_number,
    parse_x12_date,
    read_period,
)
from translators.syntax.codec import ElementCodec
from translators.syntax.tree import Message, Segment, decode_journal

try:
    from translators.mapping import _accel  # type: ignore[attr-defined]  # C, no stubs
except ImportError:  # installed without a C compiler: the Python path does it all
    _accel = None  # type: ignore[assignment]

# Whether the C module is used (tests compare both paths by switching this).
accelerate = _accel is not None and os.environ.get("EDIGATE_NO_C_ACCEL", "") in ("", "0")

MAPS_DIR = Path(__file__).with_name("maps")

Rule = dict[str, Any]
LoopSpec = dict[str, Any]

# Shared defaults for absent "lists" / "fields": a fresh container per call would defeat the
# caches below, which are keyed by identity.
_NO_LOOPS: dict[str, LoopSpec] = {}
_NO_RULES: list[Rule] = []


# A segment as the rules read it: the segment and, when its text splits plainly, its element
# texts (``ElementCodec.cells``: ``cells[n]`` is element n, ``cells[0]`` the component
# separator). Rules read values from the cells with one split per segment instead of decoding
# the whole list-of-lists; ``cells`` is None for a segment read through ``elements`` (built in
# code, decoded before mapping, or holding release/repetition characters or line breaks).
View = tuple[Segment, list[str] | None]


@dataclass(slots=True)
class Scope:
    """The segments one loop instance owns (child loop instances excluded) and its ancestry."""

    label: str
    segments: list[Segment]
    parent: Scope | None = None
    raw: list[Segment] = field(default_factory=list)  # every segment, children included
    node: HierNode | None = None
    index: int = 1  # 1-based position among its siblings
    _by_tag: dict[str, list[View]] | None = None
    _raw_by_tag: dict[str, list[View]] | None = None

    def by_tag(self) -> dict[str, list[View]]:
        """Own segments by tag."""
        if self._by_tag is None:
            self._by_tag = _index(self.segments)
        return self._by_tag

    def tagged(self, tag: str, deep: bool = False) -> list[View]:
        """Own (or, deep, all) segments with one tag, indexed on first use."""
        if deep:
            if self._raw_by_tag is None:
                self._raw_by_tag = _index(self.raw)
            return self._raw_by_tag.get(tag, [])
        if self._by_tag is None:
            self._by_tag = _index(self.segments)
        return self._by_tag.get(tag, [])


def _index(segments: list[Segment]) -> dict[str, list[View]]:
    out: dict[str, list[View]] = {}
    for seg in segments:
        raw = seg.raw
        cells = None
        # Decoded elements win over the text: they may have been changed in place.
        if raw is not None and seg._elements is None:
            codec = seg._codec
            if codec is not None:
                cells = codec.cells(raw)  # type: ignore[attr-defined]  # an ElementCodec
        tag = seg.tag
        bucket = out.get(tag)
        if bucket is None:
            out[tag] = [(seg, cells)]
        else:
            bucket.append((seg, cells))
    return out


def _cell(view: View, element: int, component: int) -> str:
    """``seg.get(element, component)`` of a view: from its cells when it has them."""
    seg, cells = view
    if cells is None or element < 1 or component < 1:
        return seg.get(element, component)
    try:
        text = cells[element]
    except IndexError:
        return ""
    separator = cells[0]
    if separator in text:
        parts = text.split(separator)
        return parts[component - 1] if component <= len(parts) else ""
    return text if component == 1 else ""


def _count(view: View) -> int:
    """``seg.element_count`` of a view."""
    cells = view[1]
    return len(view[0].elements) if cells is None else len(cells) - 1


@dataclass(slots=True)
class HierNode:
    """One HL / CPS node: its own segments plus the tree links."""

    ident: str
    parent_ident: str
    level: str
    segments: list[Segment]
    parent: HierNode | None = None
    children: list[HierNode] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# loading


@lru_cache(maxsize=1024)  # (bounded: the type comes from the input)
def load_map(standard: str, message_type: str) -> dict[str, Any] | None:
    """The map for one message type, or None when we do not map it."""
    if not message_type.isalnum():
        return None
    path = MAPS_DIR / standard / f"{message_type.upper()}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def available_maps() -> list[tuple[str, str]]:
    return sorted((p.parent.name, p.stem) for p in MAPS_DIR.glob("*/*.json"))


_RULE_KEYS = {"field", "seg", "el", "els", "join", "where", "type", "codes", "from", "part",
              "const", "index", "nth", "deep", "pairs", "composites", "decimals", "format_el",
              "century_el", "identifiers"}
_ID_SOURCE_KEYS = {"seg", "id", "qualifier", "composites", "pairs"}
_LOOP_KEYS = {"start", "start_where", "members", "where", "levels", "all", "from", "fields",
              "lists", "keep_empty"}
_TYPES = {"string", "number", "x12_date", "edifact_date", "gtin"}


def check_map(spec: dict[str, Any]) -> list[str]:
    """Problems in one map file (unknown keys, types, code lists): empty when it is sound."""
    problems: list[str] = []
    for key in ("standard", "message", "event_type", "version"):
        if key not in spec:
            problems.append(f"missing {key!r}")

    def rules(where: str, items: list[Rule]) -> None:
        for rule in items:
            label = f"{where}.{rule.get('field', '?')}"
            problems.extend(f"{label}: unknown key {k!r}" for k in set(rule) - _RULE_KEYS)
            if rule.get("type", "string") not in _TYPES:
                problems.append(f"{label}: unknown type {rule['type']!r}")
            if "codes" in rule:
                try:
                    code_list(rule["codes"])
                except MappingError as exc:
                    problems.append(f"{label}: {exc}")
            if not ({"const", "index", "identifiers"} & set(rule)) and "seg" not in rule:
                problems.append(f"{label}: no segment")
            if "identifiers" in rule:
                spec = rule["identifiers"]
                try:
                    code_list(spec.get("codes", ""))
                except MappingError as exc:
                    problems.append(f"{label}: {exc}")
                for source in spec.get("sources", []):
                    problems.extend(f"{label}: unknown identifier source key {k!r}"
                                    for k in set(source) - _ID_SOURCE_KEYS)
                    if "seg" not in source or not ({"id", "composites", "pairs"} & set(source)):
                        problems.append(f"{label}: an identifier source needs 'seg' and one "
                                        "of 'id', 'composites', 'pairs'")

    def loops(where: str, items: dict[str, LoopSpec]) -> None:
        for name, loop in items.items():
            label = f"{where}.{name}"
            problems.extend(f"{label}: unknown key {k!r}" for k in set(loop) - _LOOP_KEYS)
            if ("start" in loop) == ("levels" in loop):
                problems.append(f"{label}: needs exactly one of 'start' and 'levels'")
            rules(label, loop.get("fields", []))
            loops(label, loop.get("lists", {}))

    rules(spec.get("message", "?"), spec.get("fields", []))
    loops(spec.get("message", "?"), spec.get("lists", {}))
    problems.extend(f"derive: unknown operation {op.get('op')!r}"
                    for op in spec.get("derive", [])
                    if op.get("op") not in ("flatten", "nest", "project", "drop", "identifiers"))
    return problems


# ---------------------------------------------------------------------------------------------
# element addressing


@cache
def _address(spec: str | int) -> tuple[int, int]:
    text = str(spec)
    element, _, component = text.partition(".")
    return int(element), int(component or 1)


def element_value(seg: Segment, spec: str | int, rep: int = 1) -> str:
    element, component = _address(spec)
    return seg.get(element, component, rep)


def _matches(seg: Segment, where: dict[str, Any] | None) -> bool:
    if not where:
        return True
    for spec, wanted in where.items():
        value = element_value(seg, spec).strip()
        allowed = wanted if isinstance(wanted, list) else [wanted]
        if "*" in allowed:
            if not value:
                return False
        elif value not in allowed:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# loop partitioning


def _closure(spec: LoopSpec) -> set[str]:
    """Every tag that may appear inside one instance of this loop (nested loops included)."""
    tags = {spec["start"], *spec.get("members", [])}
    for child in spec.get("lists", {}).values():
        if "start" in child:
            tags |= _closure(child)
    return tags


_CLOSURES: dict[int, tuple[LoopSpec, set[str]]] = {}


def _cached_closure(spec: LoopSpec) -> set[str]:
    # Map specs are loaded once and never mutated, so their identity is a safe cache key
    # (the spec itself is kept alive in the value so the id cannot be reused).
    hit = _CLOSURES.get(id(spec))
    if hit is None or hit[0] is not spec:
        hit = (spec, _closure(spec))
        _CLOSURES[id(spec)] = hit
    return hit[1]


_LOCAL: dict[tuple[int, str], tuple[LoopSpec, dict[str, LoopSpec]]] = {}


def _local_loops(name: str, child: LoopSpec) -> dict[str, LoopSpec]:
    """``{name: child without "from"}``, the loops table a borrowed loop is partitioned with
    in its target scope; one per loop spec (a fresh dict per call defeated every cache)."""
    key = (id(child), name)
    hit = _LOCAL.get(key)
    if hit is None or hit[0] is not child:
        hit = _LOCAL[key] = (child, {name: {k: v for k, v in child.items() if k != "from"}})
    return hit[1]


class _Partitioner:
    """What partitioning a scope needs to know about its child loops, worked out once per
    loops table: start tags (in declaration order), closures, and the start tag of each."""

    __slots__ = ("closures", "loops", "names", "start_of", "starts_by_tag")

    def __init__(self, loops: dict[str, LoopSpec]) -> None:
        self.loops = loops  # kept alive: the cache is keyed by its id
        self.names = tuple(loops)
        starts = {name: spec for name, spec in loops.items() if "start" in spec}
        self.start_of = {name: spec["start"] for name, spec in starts.items()}
        self.closures = {name: _cached_closure(spec) for name, spec in starts.items()}
        by_tag: dict[str, list[tuple[str, dict[str, Any] | None]]] = {}
        for name, spec in starts.items():
            by_tag.setdefault(spec["start"], []).append((name, spec.get("start_where")))
        self.starts_by_tag = by_tag


_PARTITIONERS: dict[int, _Partitioner] = {}


def _partitioner(loops: dict[str, LoopSpec]) -> _Partitioner:
    hit = _PARTITIONERS.get(id(loops))
    if hit is None or hit.loops is not loops:
        hit = _PARTITIONERS[id(loops)] = _Partitioner(loops)
    return hit


def _partition(
    segments: list[Segment], loops: dict[str, LoopSpec]
) -> tuple[list[Segment], dict[str, list[list[Segment]]]]:
    """Split a scope into its own segments and the instances of each positional child loop."""
    if not loops:
        return list(segments), {}
    plan = _partitioner(loops)
    starts_by_tag = plan.starts_by_tag
    if accelerate and starts_by_tag and type(segments) is list:
        return _accel.partition(segments, plan.names, starts_by_tag, plan.closures,
                                plan.start_of, _matches)  # type: ignore[no-any-return]
    found: dict[str, list[list[Segment]]] = {name: [] for name in plan.names}
    if not starts_by_tag:  # no positional child loop: every segment is the scope's own
        return list(segments), found
    own: list[Segment] = []
    closures, start_of = plan.closures, plan.start_of
    current: list[Segment] | None = None
    closure: set[str] = set()
    start = ""
    for seg in segments:
        tag = seg.tag
        # Membership of the open instance wins over a sibling loop that starts with the same
        # tag: an N1 inside an X12 LIN loop belongs to the line, not to the header parties.
        if current is not None and tag in closure and tag != start:
            current.append(seg)
            continue
        opener = None
        for name, where in starts_by_tag.get(tag, ()):
            if _matches(seg, where):
                opener = name
                break
        if opener is not None:
            current = [seg]
            closure, start = closures[opener], start_of[opener]
            found[opener].append(current)
            continue
        if current is not None and tag in closure:
            current.append(seg)
            continue
        current = None
        own.append(seg)
    return own, found


# ---------------------------------------------------------------------------------------------
# hierarchies (HL, CPS)


def _build_hierarchy(
    segments: list[Segment], spec: dict[str, Any]
) -> tuple[list[Segment], list[HierNode]]:
    tag = spec["segment"]
    end_tags = set(spec.get("end", []))
    own: list[Segment] = []
    nodes: list[HierNode] = []
    current: HierNode | None = None
    for seg in segments:
        if seg.tag == tag:
            level = element_value(seg, spec["level"]).strip() if "level" in spec else tag
            current = HierNode(
                ident=element_value(seg, spec["id"]).strip(),
                parent_ident=element_value(seg, spec["parent"]).strip(),
                level=level,
                segments=[seg],
            )
            nodes.append(current)
        elif seg.tag in end_tags:
            current = None
            own.append(seg)
        elif current is not None:
            current.segments.append(seg)
        else:
            own.append(seg)
    # A parent must come before its child (both standards require it). Linking only to
    # earlier nodes also makes cycles impossible, whatever ids a hostile sender uses.
    seen: dict[str, HierNode] = {}
    for node in nodes:
        parent = seen.get(node.parent_ident) if node.parent_ident else None
        if parent is not None:
            node.parent = parent
            parent.children.append(node)
        if node.ident and node.ident not in seen:
            seen[node.ident] = node
    return own, nodes


def _walk(nodes: Iterable[HierNode]) -> Iterator[HierNode]:
    """Depth-first, document order; iterative so a hostile 100 000-level chain cannot blow
    the stack."""
    stack = list(reversed(list(nodes)))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def _nearest(nodes: Iterable[HierNode], levels: set[str]) -> Iterator[HierNode]:
    """Nodes at one of ``levels``, not descending below a match (the "nearest" descendants)."""
    stack = list(reversed(list(nodes)))
    while stack:
        node = stack.pop()
        if "*" in levels or node.level in levels:
            yield node
        else:
            stack.extend(reversed(node.children))


# ---------------------------------------------------------------------------------------------
# extraction


# One place item identifiers are read from: (tag, mode, first, last, id address, qualifier
# address). mode "single": one id/qualifier address ((element, component) each); "composites":
# repeated composites (EDIFACT PIA C212 x 5: first..last elements, id and qualifier components);
# "pairs": X12 qualifier/ID element pairs (PO106/PO107 ... from first to last).
IdSource = tuple[str, str, int, int, tuple[int, int], tuple[int, int]]


def _id_source(source: dict[str, Any]) -> IdSource:
    tag = source["seg"]
    if "composites" in source:
        c = source["composites"]
        return (tag, "composites", int(c["from"]), int(c.get("to", 99)),
                (0, int(c.get("id_comp", 1))), (0, int(c.get("qualifier_comp", 2))))
    if "pairs" in source:
        p = source["pairs"]
        return tag, "pairs", int(p["from"]), int(p.get("to", 99)), (0, 1), (0, 1)
    return (tag, "single", 0, 0, _address(source["id"]),
            _address(source["qualifier"]) if "qualifier" in source else (0, 0))


@cache
def _id_table(name: str) -> tuple[CodeList, frozenset[str]]:
    """A qualifier code list and the qualifiers whose identifiers carry a GS1 check digit."""
    codes = code_list(name)
    raw = json.loads((MAPS_DIR.parent / "codes" / f"{name}.json").read_text(encoding="utf-8"))
    return codes, frozenset(raw.get("gs1", ()))


@dataclass(slots=True)
class Note:
    """A data-quality finding of the mapping (a warning: the value is kept or left out, the
    message is not rejected), with the segment it is about."""

    kind: str
    message: str
    segment: Segment | None = None
    severity: str = "warning"


class _Notes(threading.local):
    items: list[Note] | None = None


_NOTES = _Notes()


def note(kind: str, message: str, segment: Segment | None = None) -> None:
    """Record a finding for the message being mapped (nothing when none is: a bare extract)."""
    items = _NOTES.items
    if items is not None:
        items.append(Note(kind, message, segment))


def gs1_ok(text: str) -> bool:
    """True when ``text`` is all digits with a right GS1 mod-10 check digit."""
    if not text.isdigit() or not text.isascii() or len(text) < 2:
        return False
    body = text[-2::-1]
    total = 3 * sum(map(int, body[0::2])) + sum(map(int, body[1::2]))
    return (10 - total % 10) % 10 == int(text[-1])


class _Ids(list):  # type: ignore[type-arg]
    """The identifiers one source segment tag of a line gave (possibly none), with the first
    segment read: where a line without any identifier is reported."""

    __slots__ = ("segment",)
    segment: Segment | None


def _ids_fetch(rule: CompiledRule) -> Callable[[list[View]], Any]:
    """The fetch of one identifier source (a hidden ``_ids<n>`` field per source; the lines'
    lists are put together afterwards, see _fill_line): every item identification in the
    candidates, in segment order: LIN, each PIA and each C212 in it, each X12 qualifier/ID
    pair. A GS1 key with a wrong check digit is kept as sent, with a warning. (Runs for every
    line: the split cells are read directly where the segment has them.)"""
    assert rule.identifiers is not None
    ((tag, mode, first, last, id_at, qualifier_at),) = rule.identifiers
    codes, gs1 = _id_table(rule.id_codes)
    meanings = codes.codes
    qc, ic = qualifier_at[1] - 1, id_at[1] - 1

    def fetch(candidates: list[View]) -> _Ids:
        found = _Ids()
        found.segment = candidates[0][0] if candidates else None
        append = found.append
        for view in candidates:
            cells = view[1]
            if cells is not None and mode == "pairs":  # X12 lines: the hottest case
                separator = cells[0]
                stop = len(cells) - 1
                if last < stop:
                    stop = last
                for n in range(first, stop, 2):
                    qualifier, ident = cells[n], cells[n + 1]
                    if not ident:
                        continue
                    if separator in qualifier:
                        qualifier = qualifier.split(separator, 1)[0]
                    if separator in ident:
                        ident = ident.split(separator, 1)[0]
                    ident = ident.strip()
                    if ident:
                        _add(append, qualifier.strip(), ident, view)
                continue
            pairs: list[tuple[str, str]]
            if cells is None:
                if mode == "single":
                    pairs = [(_cell(view, *qualifier_at) if qualifier_at[0] else "",
                              _cell(view, *id_at))]
                elif mode == "composites":
                    pairs = [(_cell(view, n, qualifier_at[1]), _cell(view, n, id_at[1]))
                             for n in range(first, min(last, _count(view)) + 1)]
                else:
                    pairs = [(_cell(view, n, 1), _cell(view, n + 1, 1))
                             for n in range(first, min(last, _count(view)), 2)]
            elif mode == "composites":
                separator = cells[0]
                pairs = []
                for n in range(first, min(last, len(cells) - 1) + 1):
                    parts = cells[n].split(separator)
                    pairs.append((parts[qc] if qc < len(parts) else "",
                                  parts[ic] if ic < len(parts) else ""))
            else:
                pairs = [(_cell(view, *qualifier_at) if qualifier_at[0] else "",
                          _cell(view, *id_at))]
            for qualifier, ident in pairs:
                if ident and not ident.isspace():
                    _add(append, qualifier.strip(), ident.strip(), view)
        return found

    def _add(append: Callable[[dict[str, str]], None], qualifier: str, ident: str,
             view: View) -> None:
        if qualifier:
            meaning = meanings.get(qualifier)
            append({"qualifier": qualifier, "id": ident, "meaning": meaning, "source": tag}
                   if meaning else {"qualifier": qualifier, "id": ident, "source": tag})
            if qualifier in gs1 and _gtin(ident) is None:
                _bad_gs1(tag, qualifier, ident, view[0])
        else:
            append({"id": ident, "source": tag})

    return fetch


def _bad_gs1(tag: str, qualifier: str, ident: str, segment: Segment) -> None:
    note("data.check_digit", f"{tag} {qualifier} {ident!r}: not a GTIN with a right check "
         "digit (kept as sent)", segment)


FillTable = dict[str | None, tuple[tuple[str, int], ...]]


def fill_table(fields: tuple[tuple[str, tuple[str, ...]], ...]) -> FillTable:
    """The priorities as qualifier -> ((field, rank), ...): one look-up per identifier."""
    table: dict[str | None, list[tuple[str, int]]] = {}
    for name, qualifiers in fields:
        for rank, qualifier in enumerate(qualifiers):
            table.setdefault(qualifier, []).append((name, rank))
    return {qualifier: tuple(entries) for qualifier, entries in table.items()}


def _fill_line(item: dict[str, Any], table: FillTable, keys: tuple[str, ...]) -> None:
    """One line: its identifiers list from the sources' hidden lists (``keys``, in source
    order), then the convenient fields from it by the declared priority (the first identifier
    of the best-ranked qualifier); a line with no identifier at all is a warning."""
    ids: list[dict[str, str]] | None = None
    segment = None
    for key in keys:
        part = item.pop(key, None)
        if part is None:
            continue
        if segment is None:
            segment = part.segment
        if part:
            if ids is None:
                ids = part
            else:
                ids.extend(part)
    if not ids:
        if keys:
            _no_identifier(item, segment)
        return
    item["identifiers"] = list(ids)
    best: dict[str, tuple[int, str]] = {}
    for ident in ids:
        entries = table.get(ident.get("qualifier"))
        if entries is None:
            continue
        for name, rank in entries:
            held = best.get(name)
            if held is None or rank < held[0]:
                best[name] = (rank, ident["id"])
    for name, (_, value) in best.items():
        if name not in item:
            item[name] = value


def _no_identifier(item: dict[str, Any], segment: Segment | None) -> None:
    number = item.get("line_number")
    note("data.no_identifier",
         f"line {number if number is not None else '?'} carries no item identifier", segment)


def _fill_at(value: Any, path: tuple[str, ...], keys: tuple[str, ...],
             fields: FillTable) -> None:
    """_fill_line for the objects of the lists at ``path`` (loop names from the root)."""
    items = value.get(path[0]) if isinstance(value, dict) else None
    if not isinstance(items, list):
        return
    rest = path[1:]
    if not rest and accelerate:  # (the same per line in C: a dozen dict operations a line)
        _accel.fill_lines(items, fields, keys, _no_identifier)
        return
    for item in items:
        if not rest:
            if isinstance(item, dict):
                _fill_line(item, fields, keys)
        else:
            _fill_at(item, rest, keys, fields)


def identifier_paths(spec: dict[str, Any]) -> tuple[tuple[tuple[str, ...], tuple[str, ...]],
                                                   ...]:
    """(loop path from the root, hidden source fields) of every loop with an identifiers
    rule."""
    out: list[tuple[tuple[str, ...], tuple[str, ...]]] = []

    def walk(loops: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for name, loop in loops.items():
            here = (*prefix, name)
            keys = tuple(key for rule in loop.get("fields", ()) if "identifiers" in rule
                         for key in _id_keys(rule))
            if keys:
                out.append((here, keys))
            walk(loop.get("lists", {}), here)

    walk(spec.get("lists", {}), ())
    return tuple(out)


@dataclass(slots=True)
class CompiledRule:
    """One field rule with its addresses parsed once (a map is applied to many messages)."""

    field: str
    path: tuple[str, ...]
    seg: str = ""
    const: Any = None
    index: bool = False
    source: list[str] | None = None  # "from"
    where: list[tuple[int, int, frozenset[str], bool]] | None = None
    nth: int = 1
    deep: bool = False
    element: tuple[int, int] = (1, 1)
    els: list[tuple[int, int]] | None = None
    join: str = " "
    pairs: tuple[int, int, frozenset[str]] | None = None
    composites: tuple[int, int, int, int, frozenset[str]] | None = None
    identifiers: tuple[IdSource, ...] | None = None  # every item identification of a scope
    id_codes: str = ""  # their code list (qualifier -> meaning, GS1 qualifiers)
    rule: Rule = field(default_factory=dict)  # type: ignore[operator]  # the source rule: type, codes, part ...
    name: str | None = None  # the field when its path is a single name (the common case)
    direct: bool = False  # a plain segment rule of the scope's own segments (most rules)
    kind: str = "string"  # "type"
    codes: str | None = None  # code list name
    # The rule applied to candidate segments (specialised for the common shapes at compile
    # time: the per-rule interpretation cost more than the extraction itself).
    fetch: Callable[[list[View]], Any] | None = None


def _compile_where(where: dict[str, Any] | None) -> list[tuple[int, int, frozenset[str], bool]]:
    out = []
    for spec, wanted in (where or {}).items():
        element, component = _address(spec)
        allowed = frozenset(wanted if isinstance(wanted, list) else [wanted])
        out.append((element, component, allowed, "*" in allowed))
    return out


def _compile_rule(rule: Rule) -> CompiledRule:
    source = rule.get("from")
    compiled = CompiledRule(
        field=rule["field"], path=tuple(rule["field"].split(".")), seg=rule.get("seg", ""),
        const=rule.get("const"), index=bool(rule.get("index")),
        source=None if source is None else (source if isinstance(source, list) else [source]),
        where=_compile_where(rule.get("where")) or None, nth=int(rule.get("nth", 1)),
        deep=bool(rule.get("deep")), join=rule.get("join", " "), rule=rule,
        kind=rule.get("type", "string"), codes=rule.get("codes"))
    if len(compiled.path) == 1:
        compiled.name = compiled.path[0]
    compiled.direct = compiled.const is None and not compiled.index \
        and compiled.source is None and not compiled.deep
    if "el" in rule:
        compiled.element = _address(rule["el"])
    if "els" in rule:
        compiled.els = [_address(spec) for spec in rule["els"]]
    if "pairs" in rule:
        p = rule["pairs"]
        compiled.pairs = (p["from"], p.get("to", 99), frozenset(p["qualifier"]))
    if "composites" in rule:
        c = rule["composites"]
        compiled.composites = (c["from"], c.get("to", 99), c["qualifier_comp"],
                               c.get("value_comp", 1), frozenset(c["qualifier"]))
    compiled.fetch = _make_fetch(compiled)
    return compiled


def _make_fetch(rule: CompiledRule) -> Callable[[list[View]], Any]:
    """``_extract`` for one rule; the shapes nearly every rule has get a closure that does the
    same with the addresses bound (same results, same exceptions)."""
    if rule.pairs is not None and rule.where is None and rule.nth == 1:
        return _pairs_fetch(rule)
    e, c = rule.element
    if rule.pairs is not None or rule.composites is not None or rule.els is not None \
            or rule.nth != 1 or (rule.where is not None and len(rule.where) != 1) \
            or e < 1 or c < 1:
        return partial(_extract, rule=rule)
    convert, plain = _converter(rule)
    codes = rule.codes
    ei, ci = e - 1, c - 1
    # The value of element e, component c, of one view, inlined below (the hottest lines of
    # a translation): from the cells when the segment has them, else from its elements.
    if rule.where is None:
        def first(candidates: list[View]) -> Any:
            view = candidates[0]
            cells = view[1]
            if cells is None:
                try:
                    raw = view[0].elements[ei][0][ci]
                except IndexError:
                    return None
            else:
                try:
                    raw = cells[e]
                except IndexError:
                    return None
                separator = cells[0]
                if separator in raw:
                    parts = raw.split(separator)
                    if c > len(parts):
                        return None
                    raw = parts[ci]
                elif c != 1:
                    return None
            if not raw or raw.isspace():
                return None
            if plain == _STRIP:
                return raw.strip()
            if plain == _NUMBER:
                return parse_number(raw)
            if plain == _CODE:
                return code_list(codes).read(raw.strip())
            if plain == _GTIN:
                return _gtin(raw)
            return convert(view, raw)
        return first
    ((we, wc, allowed, any_value),) = rule.where
    same = we == e and we >= 1 and wc >= 1

    # The value reading below repeats ``first``'s on purpose: this runs once per mapped value
    # (hundreds of thousands per MB), where a shared helper's extra call shows in
    # bench/translate.py.
    def qualified(candidates: list[View]) -> Any:
        for view in candidates:
            cells = view[1]
            if cells is None:
                elements = view[0].elements
                try:
                    value = elements[we - 1][0][wc - 1].strip()
                except IndexError:
                    value = ""
            elif we < 1 or wc < 1:
                value = _cell(view, we, wc).strip()
            else:
                parts = None
                try:
                    text = cells[we]
                except IndexError:
                    text = value = ""
                    missing = True
                else:
                    missing = False
                    separator = cells[0]
                    if separator in text:
                        parts = text.split(separator)
                        value = parts[wc - 1] if wc <= len(parts) else ""
                    else:
                        value = text if wc == 1 else ""
                value = value.strip()
            if not (value if any_value else value in allowed):
                continue
            if cells is None:
                try:
                    raw = elements[ei][0][ci]
                except IndexError:
                    return None
            elif same:  # the qualifier sits in the value's element (QTY 1.1 / 1.2): one split
                if missing:
                    return None
                if parts is not None:
                    if c > len(parts):
                        return None
                    raw = parts[ci]
                elif c == 1:
                    raw = text
                else:
                    return None
            else:
                try:
                    raw = cells[e]
                except IndexError:
                    return None
                separator = cells[0]
                if separator in raw:
                    parts = raw.split(separator)
                    if c > len(parts):
                        return None
                    raw = parts[ci]
                elif c != 1:
                    return None
            if not raw or raw.isspace():
                return None
            if plain == _STRIP:
                return raw.strip()
            if plain == _NUMBER:
                return parse_number(raw)
            if plain == _CODE:
                return code_list(codes).read(raw.strip())
            if plain == _GTIN:
                return _gtin(raw)
            return convert(view, raw)
        return None
    return qualified


def _pairs_fetch(rule: CompiledRule) -> Callable[[list[View]], Any]:
    """X12 qualifier/value pairs (PO106/PO107 ...) of the first candidate: _extract with
    _raw_value's pairs branch, bound."""
    assert rule.pairs is not None
    first, last, wanted = rule.pairs
    convert, plain = _converter(rule)
    codes = rule.codes

    # The cells serve pairs that start at an element (a malformed map fails as it always did).
    split = _whole(first) and first >= 1

    def pairs(candidates: list[View]) -> Any:
        view = candidates[0]
        cells = view[1]
        if cells is None or not split:
            elements = view[0].elements
            for position in range(first, min(last, len(elements)), 2):
                if _value(elements, position, 1).strip() in wanted:
                    raw = _value(elements, position + 1, 1)
                    break
            else:
                return None
        else:
            separator = cells[0]
            # (len(cells) - 1 elements; the value element follows its qualifier)
            for position in range(first, min(last, len(cells) - 1), 2):
                qualifier = cells[position]
                if separator in qualifier:
                    qualifier = qualifier.split(separator, 1)[0]
                if qualifier.strip() in wanted:
                    raw = cells[position + 1]
                    if separator in raw:
                        raw = raw.split(separator, 1)[0]
                    break
            else:
                return None
        if not raw or raw.isspace():
            return None
        if plain == _STRIP:
            return raw.strip()
        if plain == _NUMBER:
            return parse_number(raw)
        if plain == _CODE:
            return code_list(codes).read(raw.strip())
        if plain == _GTIN:
            return _gtin(raw)
        return convert(view, raw)
    return pairs


# How a converter's work can be done inline by the fetch closures (see _converter).
_STRIP, _NUMBER, _CODE, _GTIN, _OTHER = 0, 1, 2, 3, 4


def _converter(rule: CompiledRule) -> tuple[Callable[[View, str], Any], int]:
    """``_convert`` for one rule, and which of the common conversions it is (the fetch
    closures then do that one inline: a call per value is a good part of the cost)."""
    codes = rule.codes
    if rule.kind == "string" and codes is None:
        return (lambda view, raw: raw.strip()), _STRIP
    if rule.kind == "string":
        return (lambda view, raw: code_list(codes).read(raw.strip())), _CODE
    if rule.kind == "number" and codes is None and "decimals" not in rule.rule:
        return (lambda view, raw: parse_number(raw)), _NUMBER
    if rule.kind == "gtin" and codes is None:
        return (lambda view, raw: _gtin(raw)), _GTIN
    return partial(_convert, compiled=rule), _OTHER


_COMPILED: dict[int, tuple[list[Rule], list[CompiledRule]]] = {}


def _compiled_rules(rules: list[Rule]) -> list[CompiledRule]:
    hit = _COMPILED.get(id(rules))
    if hit is None or hit[0] is not rules:
        hit = (rules, [compiled for rule in rules for compiled in (
            _id_rules(rule) if "identifiers" in rule else [_compile_rule(rule)])])
        _COMPILED[id(rules)] = hit
    return hit[1]


def _id_keys(rule: Rule) -> list[str]:
    """The hidden fields an identifiers rule's sources fill, one per source."""
    return [f"_ids{number}" for number in range(len(rule["identifiers"]["sources"]))]


def _id_rules(rule: Rule) -> list[CompiledRule]:
    """An identifiers rule as one plain segment rule per source (``_ids<n>``), so each is an
    ordinary fetch of one tag's candidates on both paths (C and Python)."""
    spec = rule["identifiers"]
    out = []
    for key, source in zip(_id_keys(rule), spec["sources"], strict=True):
        compiled = CompiledRule(field=key, path=(key,), seg=source["seg"], rule=rule,
                                name=key, direct=True)
        compiled.identifiers = (_id_source(source),)
        compiled.id_codes = spec["codes"]
        compiled.fetch = _ids_fetch(compiled)
        out.append(compiled)
    return out


FieldStep = tuple[str | None, tuple[str, ...], str, Callable[[list[View]], Any] | None,
                  CompiledRule]


def _field_plan(rules: list[Rule]) -> tuple[FieldStep, ...]:
    """The compiled rules as plain tuples (unpacked by the loop: cheaper than attributes):
    field name (None for a dotted path), path, segment tag, fetch (None: use _rule), rule."""
    return tuple((r.name, r.path, r.seg, r.fetch if r.direct else None, r)
                 for r in _compiled_rules(rules))


# How a scope finds the instances of a child list.
_POSITIONAL, _LEVELS, _BORROWED = 0, 1, 2
Child = tuple[str, LoopSpec, int, "dict[str, Any] | None", bool, "_ScopePlan"]


class _ScopePlan:
    """One loop spec (or a whole map) worked out once: its child lists with how each one is
    found, and its field rules as a plan. A map is applied to many messages; looking the same
    keys up in the spec dicts for every loop instance cost as much as extracting the values."""

    __slots__ = ("accel", "children", "derive", "fields", "hierarchy", "id_fields", "id_paths",
                 "loops", "scope_tables", "spec", "steps")

    def __init__(self, spec: LoopSpec) -> None:
        self.spec = spec  # kept alive: plans are cached by its id
        self.loops: dict[str, LoopSpec] = spec.get("lists", _NO_LOOPS)
        self.hierarchy: dict[str, Any] | None = spec.get("hierarchy")  # (a whole map's)
        self.derive: tuple[dict[str, Any], ...] = tuple(spec.get("derive", ()))
        # The loops whose lines get an identifiers list, with the identifiers operation's
        # priorities for the convenient fields.
        # (a whole map's: its root spec names the message)
        self.id_paths = identifier_paths(spec) if "message" in spec else ()
        self.id_fields = fill_table(next(
            (tuple((name, tuple(q)) for name, q in op["fields"].items())
             for op in self.derive if op.get("op") == "identifiers"), ()))
        children: list[Child] = []
        for name, child in self.loops.items():
            kind = _LEVELS if "levels" in child else _BORROWED if "from" in child \
                else _POSITIONAL
            children.append((name, child, kind, child.get("where"),
                             bool(child.get("keep_empty")), _scope_plan(child)))
        self.children = tuple(children)
        self.steps = _field_plan(spec.get("fields", _NO_RULES))
        self.fields = _compile_fields(self.steps, tuple(self.loops))
        self.accel = None if _accel is None else _accel_plan(self.steps, tuple(self.loops))
        # What _accel.scope needs when every child loop is one it maps whole (positional, no
        # "where", no child loops of its own): the scope then takes one call, not one per loop.
        self.scope_tables: tuple[Any, ...] | None = None
        if self.accel is not None and self.children and all(
                kind == _POSITIONAL and not where and not child_plan.loops
                and child_plan.accel is not None
                for _, _, kind, where, _, child_plan in self.children):
            partitioner = _partitioner(self.loops)
            if partitioner.starts_by_tag:
                self.scope_tables = (
                    partitioner.starts_by_tag, partitioner.closures, partitioner.start_of,
                    _matches, tuple((name, child_plan.accel, keep_empty, child_plan)
                                    for name, _, _, _, keep_empty, child_plan in self.children))


FieldsFn = Callable[[dict[str, Any], dict[str, list[View]], Scope,
                     Callable[[Scope, CompiledRule], Any]], None]


def _compile_fields(steps: tuple[FieldStep, ...], lists: tuple[str, ...]) -> FieldsFn:
    """The field rules of one scope as one generated function, straight-line in rule order:
    what the interpreting loop did per rule and per loop instance (unpack the step, look the
    field and the tag up, test for an earlier alternative, call the fetch closure) is decided
    here once. Whether a field can already be present is known from the rule order (an
    earlier rule or list can only have set the names before it); the index is asked once per
    tag; the common rule shapes read a lone candidate's cells inline (see _inline_fetch) and
    every other case calls the rule's fetch closure, so values, alternatives, key order and
    exceptions stay as they were. Names and values from the map file reach the code only as
    variables of the namespace, never as source text.

    The function takes ``(out, index, scope, rule)``: the payload being filled, the scope's
    own segments by tag, the scope, and ``Extractor._rule`` for the rules that need more than
    the scope's own segments (constants, indexes, ``from``, ``deep``)."""
    namespace: dict[str, Any] = {"_get": _get, "_put": _put, "parse_number": parse_number,
                                 "code_list": code_list, "_gtin": _gtin}
    lines = ["def fields(out, index, scope, rule):"]
    maybe: set[str] = set(lists)  # keys ``out`` may hold before the current rule
    tags: dict[str, int] = {}  # tag -> its number: g<n> candidates, x<n> a lone one's cells
    body: list[str] = []
    for number, (name, path, tag, fetch, compiled) in enumerate(steps):
        namespace[f"p{number}"] = path
        namespace[f"n{number}"] = name
        namespace[f"r{number}"] = compiled
        indent = "    "
        key = path[0]
        if key in maybe:
            body.append(f"{indent}if n{number} not in out:" if name is not None
                        else f"{indent}if _get(out, p{number}) is None:")
            indent += "    "
        if fetch is not None:
            tag_number = tags.setdefault(tag, len(tags))
            namespace[f"t{tag_number}"] = tag
            namespace[f"f{number}"] = fetch
            body.append(f"{indent}if g{tag_number} is not None:")
            indent += "    "
            inline = _inline_fetch(compiled, number, f"g{tag_number}", f"x{tag_number}",
                                   namespace)
            if inline is None:
                body.append(f"{indent}v = f{number}(g{tag_number})")
            else:
                body.append(f"{indent}if x{tag_number} is None:")
                body.append(f"{indent}    v = f{number}(g{tag_number})")
                body.append(f"{indent}else:")
                body.extend(f"{indent}    {line}" for line in inline)
        else:
            body.append(f"{indent}v = rule(scope, r{number})")
        body.append(f'{indent}if v is not None and v != "":')
        body.append(f"{indent}    out[n{number}] = v" if name is not None
                    else f"{indent}    _put(out, p{number}, v)")
        maybe.add(key)
    # The index lookups have no effect, so they can all come first (the loop made them one
    # rule at a time). x<n>: the cells of the tag's only segment (None when there are several
    # or it has none: the fetch closure then does it all).
    for tag_number in tags.values():
        lines.append(f"    g{tag_number} = index.get(t{tag_number})")
        lines.append(f"    x{tag_number} = None if g{tag_number} is None or "
                     f"len(g{tag_number}) != 1 else g{tag_number}[0][1]")
    lines.extend(body)
    lines.append("    return None")
    exec("\n".join(lines), namespace)  # (the source is built above from fixed text)
    return namespace["fields"]  # type: ignore[no-any-return]


def _cell_source(cells: str, element: int, components: list[tuple[int, str, str]]) -> list[str]:
    """Source that reads element ``element`` of the cells named ``cells`` once and sets, for
    each (component, target, missing) of ``components``, ``target`` to that component, or to
    ``missing`` when the segment does not have it: ``_cell`` inline (numbers >= 1)."""
    lines = ["try:",
             f"    s = {cells}[{element}]",
             "except IndexError:",
             *(f"    {target} = {missing}" for _, target, missing in components),
             "else:",
             f"    if {cells}[0] in s:",
             f"        s = s.split({cells}[0])"]
    for component, target, missing in components:
        lines.append(f"        {target} = s[0]" if component == 1 else
                     f"        {target} = s[{component - 1}] if len(s) >= {component} "
                     f"else {missing}")
    lines.append("    else:")
    lines.extend(f"        {target} = s" if component == 1 else f"        {target} = {missing}"
                 for component, target, missing in components)
    return lines


def _inline_fetch(rule: CompiledRule, number: int, candidates: str, cells: str,
                  namespace: dict[str, Any]) -> list[str] | None:
    """Source that sets ``v`` to what ``rule.fetch`` returns for the lone candidate in
    ``candidates``, whose cells are named ``cells`` (not None), for the shapes the fetch
    closures bind (a plain element, at most one qualifier; see _make_fetch); None for any
    other rule (its closure is called). Element numbers are ints (from ``_address``, or
    checked by ``_whole``), so they may be written into the source."""
    if rule.identifiers is not None:  # (its own fetch: _ids_fetch)
        return None
    element, component = rule.element
    pairs = rule.pairs is not None and rule.where is None and rule.nth == 1 \
        and _whole(rule.pairs[0]) and _whole(rule.pairs[1]) and rule.pairs[0] >= 1
    if not pairs and (rule.pairs is not None or rule.composites is not None
                      or rule.els is not None or rule.nth != 1
                      or (rule.where is not None and len(rule.where) != 1)
                      or element < 1 or component < 1):
        return None
    convert, plain = _converter(rule)
    namespace[f"c{number}"] = convert
    namespace[f"k{number}"] = rule.codes
    # (parse_number of ASCII digits alone is int() of them: its own first test)
    value = {_STRIP: "r.strip()",
             _NUMBER: "int(r) if r.isdigit() and r.isascii() else parse_number(r)",
             _CODE: f"code_list(k{number}).read(r.strip())", _GTIN: "_gtin(r)"}.get(
        plain, f"c{number}({candidates}[0], r)")  # (other converters take the view)
    convert_lines = ["if not r or r.isspace():",  # (r is None when the element is missing)
                     "    v = None",
                     "else:",
                     f"    v = {value}"]
    if pairs:  # X12 qualifier/value pairs (PO106/PO107 ...): _pairs_fetch inline
        assert rule.pairs is not None
        first, last, wanted = rule.pairs
        namespace[f"a{number}"] = wanted
        return ["r = None",
                f"for q in range({first}, min({last}, len({cells}) - 1), 2):",
                f"    w = {cells}[q]",
                f"    if {cells}[0] in w:",
                f"        w = w.split({cells}[0], 1)[0]",
                f"    if w.strip() in a{number}:",
                f"        r = {cells}[q + 1]",
                f"        if {cells}[0] in r:",
                f"            r = r.split({cells}[0], 1)[0]",
                "        break",
                *convert_lines]
    if rule.where is None:
        return [*_cell_source(cells, element, [(component, "r", "None")]), *convert_lines]
    ((where_element, where_component, allowed, any_value),) = rule.where
    if where_element < 1 or where_component < 1:
        return None
    namespace[f"a{number}"] = allowed
    if where_element == element:  # qualifier and value in one composite (QTY 1.1 / 1.2)
        read = _cell_source(cells, element, [(where_component, "w", '""'),
                                             (component, "r", "None")])
        then = convert_lines
    else:
        read = _cell_source(cells, where_element, [(where_component, "w", '""')])
        then = [*_cell_source(cells, element, [(component, "r", "None")]), *convert_lines]
    return [*read,
            "w = w.strip()",
            f"if {'w' if any_value else f'w in a{number}'}:",
            *(f"    {line}" for line in then),
            "else:",
            "    v = None"]


def _whole(value: Any) -> bool:
    """An int (not a bool): a number a map may give that the generated source can hold."""
    return type(value) is int


# The C module's names for what a step does (see _accel.c; the numbers are shared with it).
_OP_INLINE, _OP_FETCH, _OP_CONST, _OP_INDEX, _OP_RULE = range(5)
_SH_PLAIN, _SH_WHERE, _SH_PAIRS, _SH_COMPOSITES, _SH_ELS, _SH_IDS = range(6)
_ID_MODES = {"pairs": 0, "composites": 1, "single": 2}
_CV_CALL1, _CV_CALLVIEW = 4, 5  # (0-3: _STRIP, _NUMBER, _CODE, _GTIN)
_LEAF_MAX_TAGS = 32
_LEAF_MAX_ELS = 16


def _accel_plan(steps: tuple[FieldStep, ...], lists: tuple[str, ...]) -> Any:
    """The field rules of one scope for the C module (``_accel.Plan``), as plain tuples, or
    None when the module does not take them (too many segment tags, numbers
    beyond its integers): the Python path then maps the loop.

    Each step says what the generated ``fields`` function does for that rule: read a rule
    shape _inline_fetch knows (and, alike, the composites and els of _raw_value) from the text
    (``_OP_INLINE``, the module calling the fetch closure when a candidate has no cells), call
    the fetch closure (``_OP_FETCH``), or ask ``Extractor._rule`` (``_OP_RULE``), whose
    constants and line numbers need no scope (``_OP_CONST``, ``_OP_INDEX``). Numbers reach C
    only when they are ints, the qualifiers as tuples."""
    tags: dict[str, int] = {}
    maybe: set[str] = set(lists)  # as in _compile_fields
    out = []
    for name, path, tag, fetch, compiled in steps:
        conv_arg: Any
        op, shape, conv, conv_arg = _OP_FETCH, _SH_PLAIN, 0, None
        e, c = compiled.element
        we = wc = first = last = qcomp = vcomp = 0
        any_value, allowed, els = False, None, None
        tag_number = -1
        if fetch is None:
            op = _OP_CONST if compiled.const is not None else _OP_INDEX if compiled.index \
                else _OP_RULE
        elif compiled.identifiers is not None:  # _ids_fetch, read from the text in C
            tag_number = tags.setdefault(tag, len(tags))
            ((source, mode, id_first, id_last, id_at, qualifier_at),) = compiled.identifiers
            if all(_whole(n) and n >= 0 for n in (id_first, id_last, *id_at, *qualifier_at)) \
                    and (mode != "single" or min(id_at) >= 1):
                op, shape = _OP_INLINE, _SH_IDS
                first, last = id_first, id_last
                qcomp, vcomp = qualifier_at[1], id_at[1]
                if mode == "single":
                    (e, c), (we, wc) = id_at, qualifier_at
                codes, gs1 = _id_table(compiled.id_codes)
                conv_arg = (_ID_MODES[mode], codes.codes, gs1, source, _Ids, _bad_gs1)
        else:
            tag_number = tags.setdefault(tag, len(tags))
            plain_shape = compiled.pairs is None and compiled.composites is None \
                and compiled.els is None and compiled.nth == 1 and e >= 1 and c >= 1
            if compiled.pairs is not None and compiled.where is None and compiled.nth == 1 \
                    and _whole(compiled.pairs[0]) and _whole(compiled.pairs[1]) \
                    and compiled.pairs[0] >= 1:
                op, shape = _OP_INLINE, _SH_PAIRS
                first, last, wanted = compiled.pairs
                allowed = tuple(wanted)
            elif compiled.composites is not None and compiled.pairs is None \
                    and compiled.where is None and compiled.els is None and compiled.nth == 1 \
                    and all(_whole(n) and n >= 1 for n in compiled.composites[:4]):
                op, shape = _OP_INLINE, _SH_COMPOSITES
                first, last, qcomp, vcomp, wanted = compiled.composites
                allowed = tuple(wanted)
            elif compiled.els is not None and compiled.pairs is None \
                    and compiled.composites is None and compiled.where is None \
                    and compiled.nth == 1 and type(compiled.join) is str \
                    and len(compiled.els) <= _LEAF_MAX_ELS \
                    and all(_whole(n) and n >= 1 for address in compiled.els for n in address):
                op, shape = _OP_INLINE, _SH_ELS
                els = tuple(compiled.els)
            elif plain_shape and compiled.where is None:
                op, shape = _OP_INLINE, _SH_PLAIN
            elif plain_shape and compiled.where is not None and len(compiled.where) == 1 \
                    and compiled.where[0][0] >= 1 and compiled.where[0][1] >= 1:
                op, shape = _OP_INLINE, _SH_WHERE
                ((we, wc, wanted, any_value),) = compiled.where
                allowed = tuple(wanted)
            if op == _OP_INLINE:
                convert, conv = _converter(compiled)
                if conv == _CODE:
                    conv_arg = compiled.codes
                elif conv == _OTHER and compiled.kind == "x12_date" and compiled.codes is None \
                        and "century_el" not in compiled.rule and "format_el" not in compiled.rule:
                    conv, conv_arg = _CV_CALL1, parse_x12_date  # (_convert reads no view)
                elif conv == _OTHER:
                    conv, conv_arg = _CV_CALLVIEW, convert
        out.append((op, shape, conv, path[0] in maybe, tag_number, e, c, we, wc, any_value,
                    allowed, first, last, qcomp, vcomp, name, path, fetch, conv_arg, compiled,
                    compiled.const, els, compiled.join))
        maybe.add(path[0])
    if len(tags) > _LEAF_MAX_TAGS:
        return None
    try:
        return _accel.Plan(tuple(tags), tuple(out))
    except (ValueError, OverflowError):  # (a number beyond C's, a shape it refuses)
        return None


def _leaf_item(name: str, parent: Scope, plan: _ScopePlan, rule: Callable[..., Any],
               inst: list[Segment], number: int) -> dict[str, Any]:
    """One leaf loop instance the Python way (what the C module hands back to Python)."""
    sub = Scope(name, inst, parent, inst, None, number)
    own_index = sub._by_tag = _index(inst)
    item: dict[str, Any] = {}
    plan.fields(item, own_index, sub, rule)
    return item


def _leaf_scope_of(name: str, parent: Scope, plan: _ScopePlan, rule: Callable[..., Any],
                   inst: list[Segment], number: int) -> Scope:
    """_leaf_scope with _leaf_item's arguments (what _accel.scope passes to both)."""
    return _leaf_scope(name, parent, inst, number)


def _leaf_scope(name: str, parent: Scope, inst: list[Segment], number: int) -> Scope:
    """The Scope _leaf_item would build, for the C module's rules that need one."""
    sub = Scope(name, inst, parent, inst, None, number)
    sub._by_tag = _index(inst)
    return sub


_SCOPE_PLANS: dict[int, _ScopePlan] = {}


def _scope_plan(spec: LoopSpec) -> _ScopePlan:
    hit = _SCOPE_PLANS.get(id(spec))
    if hit is None or hit.spec is not spec:
        hit = _SCOPE_PLANS[id(spec)] = _ScopePlan(spec)
    return hit


def _value(elements: list[list[list[str]]], element: int, component: int) -> str:
    # Segment.get without the property lookup per call: this runs for every rule and segment.
    try:
        return elements[element - 1][0][component - 1]
    except IndexError:
        return ""


def _where_ok(view: View, where: list[tuple[int, int, frozenset[str], bool]]) -> bool:
    for element, component, allowed, any_value in where:
        value = _cell(view, element, component).strip()
        if any_value:
            if not value:
                return False
        elif value not in allowed:
            return False
    return True


class Extractor:
    __slots__ = ("_node_scopes", "_resolved", "message", "nodes", "spec")

    def __init__(self, spec: dict[str, Any], message: Message) -> None:
        self.spec = spec
        self.message = message
        self.nodes: list[HierNode] = []
        # (made on first use: most messages resolve nothing)
        self._resolved: dict[tuple[Any, ...], tuple[Scope, Scope | None]] | None = None
        self._node_scopes: dict[int, Scope] | None = None

    def run(self) -> dict[str, Any]:
        plan = _scope_plan(self.spec)
        body = self.message.body
        hierarchy = plan.hierarchy
        if hierarchy:
            own, self.nodes = _build_hierarchy(body, hierarchy)
        else:
            own = body
        data = self._scope(Scope("root", [], None, body), own, plan)
        if plan.id_paths:  # the lines' identifiers lists, and what is picked from them
            fields = plan.id_fields
            for path, keys in plan.id_paths:
                _fill_at(data, path, keys, fields)
        for op in plan.derive:
            if op["op"] != "identifiers":
                _derive(data, op)
        return data

    def _scope(self, scope: Scope, segments: list[Segment], plan: _ScopePlan) -> dict[str, Any]:
        tables = plan.scope_tables
        if tables is not None and accelerate and type(segments) is list:
            rule = self._rule
            out, done = _accel.scope(plan.accel, segments, *tables, scope, rule, _leaf_item,
                                     _leaf_scope_of)
            if not done:
                plan.fields(out, scope.by_tag(), scope, rule)
            return out  # type: ignore[no-any-return]
        loops = plan.loops
        if loops:
            own, found = _partition(segments, loops)
        else:
            own, found = segments, {}
        scope.segments = own
        accel = plan.accel if accelerate else None
        if accel is None:
            scope._by_tag = _index(own)
        # (else the own segments are indexed when a rule asks: by_tag() or the C module)
        out = {}
        for name, child, kind, where, keep_empty, child_plan in plan.children:
            if kind == _LEVELS:
                items = [item for item in self._hier_list(scope, name, child, child_plan)
                         if item]
            else:
                if kind == _BORROWED:
                    # A loop that lives in another scope (X12 856: the N1 loops of the
                    # shipment HL).
                    target = self._resolve(scope, child["from"])
                    instances = _partition(target.raw, _local_loops(name, child))[1][name] \
                        if target else []
                else:
                    instances = found.get(name, [])
                leaf = not child_plan.loops
                rule = self._rule
                if leaf and not where and child_plan.accel is not None and accelerate:
                    items = _accel.run(child_plan.accel, instances,
                                      partial(_leaf_item, name, scope, child_plan, rule),
                                      partial(_leaf_scope, name, scope), rule)
                    if items or keep_empty:
                        out[name] = items
                    continue
                items = []
                for number, inst in enumerate(instances, start=1):
                    if where and not _matches(inst[0], where):
                        continue
                    if leaf:  # _scope() without the call: most instances are lines
                        sub = Scope(name, inst, scope, inst, None, number)
                        own_index = sub._by_tag = _index(inst)
                        item: dict[str, Any] = {}
                        child_plan.fields(item, own_index, sub, rule)
                    else:
                        item = self._scope(Scope(name, [], scope, inst, None, number), inst,
                                           child_plan)
                    if item:
                        items.append(item)
            if items or keep_empty:
                out[name] = items
        if accel is None or not _accel.fields(accel, out, own, scope, self._rule):
            plan.fields(out, scope.by_tag(), scope, self._rule)
        return out

    def _hier_list(self, scope: Scope, name: str, spec: LoopSpec,
                   plan: _ScopePlan) -> list[dict[str, Any]]:
        roots = scope.node.children if scope.node is not None else [
            n for n in self.nodes if n.parent is None
        ]
        levels = set(spec["levels"])
        if spec.get("all"):  # every node at those levels, nested ones too (EDIFACT CPS packs)
            chosen = [n for n in _walk(roots) if "*" in levels or n.level in levels]
        else:
            order = {id(node): position for position, node in enumerate(self.nodes)}
            chosen = sorted(_nearest(roots, levels), key=lambda node: order[id(node)])
        out = []
        for index, node in enumerate(chosen, start=1):
            sub = Scope(label=node.level, segments=[], parent=scope, raw=node.segments,
                        node=node, index=index)
            out.append(self._scope(sub, node.segments, plan))
        return out

    def _resolve(self, scope: Scope, target: str | list[str]) -> Scope | None:
        """``from``: an ancestor loop (by loop name or hierarchy level), "parent" or "root"."""
        targets = set(target) if isinstance(target, list) else {target}
        key = (id(scope), *sorted(targets))
        if self._resolved is None:
            self._resolved = {}
        elif key in self._resolved:
            return self._resolved[key][1]
        found = self._resolve_uncached(scope, targets)
        self._resolved[key] = (scope, found)  # keep scope alive: its id stays unique
        return found

    def _resolve_uncached(self, scope: Scope, targets: set[str]) -> Scope | None:
        probe: Scope | None = scope
        while probe is not None:
            if probe.label in targets or ("parent" in targets and probe is not scope):
                return probe
            if probe.node is not None:
                ancestor = probe.node.parent
                while ancestor is not None:
                    if ancestor.level in targets:
                        return self._node_scope(ancestor)
                    ancestor = ancestor.parent
            probe = probe.parent
        if scope.parent is not None or scope.node is not None:
            return None
        # At the root, a hierarchy level names the first node of that level (X12 856 "S").
        for node in self.nodes:
            if node.level in targets:
                return self._node_scope(node)
        return None

    def _node_scope(self, node: HierNode) -> Scope:
        # Own segments of a hierarchy node, positional child loops not split off: what a
        # lookup from a descendant wants (PRF of the order HL, MAN of the pack HL).
        if self._node_scopes is None:
            self._node_scopes = {}
        scope = self._node_scopes.get(id(node))
        if scope is None:
            scope = Scope(label=node.level, segments=node.segments, raw=node.segments,
                          node=node)
            self._node_scopes[id(node)] = scope
        return scope

    def _rule(self, scope: Scope, rule: CompiledRule) -> Any:
        if rule.const is not None:
            return rule.const
        if rule.index:
            return str(scope.index)
        if rule.source is not None:
            target = self._resolve(scope, rule.source)
            if target is None:
                return None
            scope = target
        candidates = scope.tagged(rule.seg, rule.deep)
        if not candidates:
            return None
        return rule.fetch(candidates)  # type: ignore[misc]


def _extract(candidates: list[View], rule: CompiledRule) -> Any:
    """The value of ``rule`` from the first matching (or ``nth``) of the candidate segments."""
    where, nth = rule.where, rule.nth
    if where is None and nth == 1:
        view = candidates[0]
    else:
        view = None
        for candidate in candidates:
            if where is None or _where_ok(candidate, where):
                nth -= 1
                if nth == 0:
                    view = candidate
                    break
        if view is None:
            return None
    raw = _raw_value(view, rule)  # type: ignore[arg-type]  # (None returned above)
    if raw is None or raw.strip() == "":
        return None
    return _convert(view, raw, rule)  # type: ignore[arg-type]


def _raw_value(view: View, rule: CompiledRule) -> str | None:
    if rule.pairs is not None:  # X12 qualifier/value element pairs: PO106/PO107 ...
        first, last, wanted = rule.pairs
        for position in range(first, min(last, _count(view)), 2):
            if _cell(view, position, 1).strip() in wanted:
                return _cell(view, position + 1, 1)
        return None
    if rule.composites is not None:  # EDIFACT repeated composites: PIA C212 x 5 ...
        first, last, qualifier_comp, value_comp, wanted = rule.composites
        for position in range(first, min(last, _count(view)) + 1):
            if _cell(view, position, qualifier_comp).strip() in wanted:
                return _cell(view, position, value_comp)
        return None
    if rule.els is not None:
        parts = [_cell(view, element, component).strip() for element, component in rule.els]
        return rule.join.join(p for p in parts if p)
    return _cell(view, *rule.element)


def _gtin(raw: str) -> str | None:
    """A GTIN-8/12/13/14 of ASCII digits with a valid check digit, else None (a bad GTIN is not
    a GTIN). str.isdigit() alone also admits "²" or other scripts' digits: a GTIN is ASCII."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) not in (8, 12, 13, 14):
        return None
    # Weights 3, 1, 3, ... from the right of the digits before the check digit, summed in C:
    # the digits as their byte values (less 48 each).
    digits = text.encode()
    odd, even = digits[-2::-2], digits[-3::-2]
    total = 3 * sum(odd) + sum(even) - 48 * (3 * len(odd) + len(even))
    return text if (10 - total % 10) % 10 == digits[-1] - 48 else None


def _convert(view: View, raw: str, compiled: CompiledRule) -> Any:
    kind = compiled.kind
    if kind == "string":
        value: Any = raw.strip()
    elif kind == "number":
        value = parse_number(raw)
        rule = compiled.rule
        if "decimals" in rule:  # X12 N2-type fields carry an implied decimal point
            value = parse_number(str(Decimal(raw.strip()).scaleb(-int(rule["decimals"]))))
    elif kind == "gtin":
        value = _gtin(raw)
        if value is None:
            return None
    elif kind == "x12_date":
        rule = compiled.rule
        century = _cell(view, *_address(rule["century_el"])) if "century_el" in rule else None
        fmt = _cell(view, *_address(rule["format_el"])).strip() if "format_el" in rule else ""
        if fmt:  # DTM06 (1250) says how to read it: D8, RD8, DT ...
            try:
                period = read_period(raw, fmt, "x12", century)
            except UnknownDateFormat as exc:
                note("data.date_format", str(exc), view[0])
                return None
            value = period.end if rule.get("part") == "end" else period.start
            if value is None:
                return None
        else:
            value = parse_x12_date(raw, century)
    elif kind == "edifact_date":
        rule = compiled.rule
        fmt = _cell(view, *_address(rule.get("format_el", "1.3")))
        try:
            period = parse_edifact_period(raw, fmt)
        except UnknownDateFormat as exc:
            note("data.date_format", str(exc), view[0])
            return None
        value = period.end if rule.get("part") == "end" else period.start
        if value is None:  # a time alone, a duration: no calendar day for a date field
            return None
    else:
        raise MappingError(f"unknown rule type {kind!r}")
    if compiled.codes is not None:
        value = code_list(compiled.codes).read(str(value))
    return value


# ---------------------------------------------------------------------------------------------
# payload paths and derive operations


def _put(target: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    *parents, last = path
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = value


def _get(source: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = source
    for name in path:
        if not isinstance(value, dict) or name not in value:
            return None
        value = value[name]
    return value


def _derive(data: dict[str, Any], op: dict[str, Any]) -> None:
    if "within" in op:  # the operation on each item of a list (a line's own child lists)
        inner = {k: v for k, v in op.items() if k != "within"}
        for item in data.get(op["within"], []):
            _derive(item, inner)
        return
    kind = op["op"]
    if kind == "project":  # a flat list with a subset of fields
        source = data.get(op["source"], [])
        projected = [{k: item[k] for k in op["fields"] if k in item} for item in source]
        if projected:
            data[op["target"]] = projected
    elif kind == "nest":  # group a flat list into nested levels by key fields
        source = data.get(op["source"], [])
        nested = _nest(source, op["levels"], op["item_fields"])
        if nested:
            data[op["target"]] = nested
    elif kind == "flatten":  # the child lists of a list's items, concatenated
        flat = [child for item in data.get(op["source"], []) for child in item.get(op["child"], [])]
        if flat:
            data[op["target"]] = data.get(op["target"], []) + flat
    elif kind == "drop":
        for name in op["fields"]:
            data.pop(name, None)
    elif kind == "identifiers":  # (applied by Extractor.run to the lines: _fill_line)
        pass
    else:
        raise MappingError(f"unknown derive operation {kind!r}")


def _nest(items: list[dict[str, Any]], levels: list[dict[str, Any]],
          item_fields: list[str]) -> list[dict[str, Any]]:
    if not levels:
        return [{k: item[k] for k in item_fields if k in item} for item in items]
    level, rest = levels[0], levels[1:]
    groups: dict[Any, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item.get(level["key"]), []).append(item)
    out = []
    for members in groups.values():
        head = {k: members[0][k] for k in level["fields"] if k in members[0]}
        children = _nest(members, rest, item_fields)
        if children:
            head[level["child"]] = children
        out.append(head)
    return out


if _accel is not None:
    try:
        _accel.bind(Segment, ElementCodec, CodeList, parse_number, code_list, _gtin, _get, _put)
    except (TypeError, AttributeError):  # a Segment this build does not know: run in Python
        _accel = None  # type: ignore[assignment]
        accelerate = False


def extract_noted(spec: dict[str, Any], message: Message) -> tuple[dict[str, Any], list[Note]]:
    """:func:`extract` with the data-quality findings made on the way (warnings)."""
    outer = _NOTES.items
    found: list[Note] = []
    _NOTES.items = found
    try:
        return extract(spec, message), found
    finally:
        _NOTES.items = outer


def extract(spec: dict[str, Any], message: Message) -> dict[str, Any]:
    # Segments the parser left undecoded go back to that state afterwards: their element lists
    # are then freed right here, while still in the cache, instead of with the whole tree (and
    # a translated file no longer holds every element of every message twice over). Most
    # values are read from split texts (see View), so usually none was decoded: the journal
    # names the few that were, where comparing every segment before and after cost ~4 µs a
    # message.
    with decode_journal() as decoded:
        try:
            return Extractor(spec, message).run()
        finally:
            if decoded:  # (rarely: most values are read from the texts)
                own = {id(seg) for seg in message.segments}
                for seg in decoded:
                    if id(seg) in own and seg.raw is not None:
                        seg.forget_elements()
