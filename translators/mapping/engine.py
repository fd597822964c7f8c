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
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, partial
from pathlib import Path
from typing import Any

from translators.mapping.values import (
    MappingError,
    code_list,
    parse_edifact_period,
    parse_number,
    parse_x12_date,
)
from translators.syntax.tree import Message, Segment

MAPS_DIR = Path(__file__).with_name("maps")

Rule = dict[str, Any]
LoopSpec = dict[str, Any]

# Shared defaults for absent "lists" / "fields": a fresh container per call would defeat the
# caches below, which are keyed by identity.
_NO_LOOPS: dict[str, LoopSpec] = {}
_NO_RULES: list[Rule] = []


@dataclass(slots=True)
class Scope:
    """The segments one loop instance owns (child loop instances excluded) and its ancestry."""

    label: str
    segments: list[Segment]
    parent: Scope | None = None
    raw: list[Segment] = field(default_factory=list)  # every segment, children included
    node: HierNode | None = None
    index: int = 1  # 1-based position among its siblings
    _by_tag: dict[str, list[Segment]] | None = None
    _raw_by_tag: dict[str, list[Segment]] | None = None

    def by_tag(self) -> dict[str, list[Segment]]:
        """Own segments by tag."""
        if self._by_tag is None:
            self._by_tag = _index(self.segments)
        return self._by_tag

    def tagged(self, tag: str, deep: bool = False) -> list[Segment]:
        """Own (or, deep, all) segments with one tag, indexed on first use."""
        if deep:
            if self._raw_by_tag is None:
                self._raw_by_tag = _index(self.raw)
            return self._raw_by_tag.get(tag, [])
        if self._by_tag is None:
            self._by_tag = _index(self.segments)
        return self._by_tag.get(tag, [])


def _index(segments: list[Segment]) -> dict[str, list[Segment]]:
    out: dict[str, list[Segment]] = {}
    for seg in segments:
        out.setdefault(seg.tag, []).append(seg)
    return out


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


@cache
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
              "const", "index", "nth", "deep", "pairs", "composites", "decimals", "format_el"}
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
            if not ({"const", "index"} & set(rule)) and "seg" not in rule:
                problems.append(f"{label}: no segment")

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
                    if op.get("op") not in ("flatten", "nest", "project", "drop"))
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
    found: dict[str, list[list[Segment]]] = {name: [] for name in plan.names}
    starts_by_tag = plan.starts_by_tag
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
    rule: Rule = field(default_factory=dict)  # the source rule: type, codes, part ...
    name: str | None = None  # the field when its path is a single name (the common case)
    direct: bool = False  # a plain segment rule of the scope's own segments (most rules)
    kind: str = "string"  # "type"
    codes: str | None = None  # code list name
    # The rule applied to candidate segments (specialised for the common shapes at compile
    # time: the per-rule interpretation cost more than the extraction itself).
    fetch: Callable[[list[Segment]], Any] | None = None


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


def _make_fetch(rule: CompiledRule) -> Callable[[list[Segment]], Any]:
    """``_extract`` for one rule; the shapes nearly every rule has get a closure that does the
    same with the addresses bound (same results, same exceptions)."""
    if rule.pairs is not None and rule.where is None and rule.nth == 1:
        return _pairs_fetch(rule)
    if rule.pairs is not None or rule.composites is not None or rule.els is not None \
            or rule.nth != 1 or (rule.where is not None and len(rule.where) != 1):
        return partial(_extract, rule=rule)
    convert = _converter(rule)
    e, c = rule.element[0] - 1, rule.element[1] - 1
    if rule.where is None:
        def first(candidates: list[Segment]) -> Any:
            seg = candidates[0]
            try:
                raw = seg.elements[e][0][c]
            except IndexError:
                return None
            if not raw or raw.isspace():
                return None
            return convert(seg, raw)
        return first
    ((we, wc, allowed, any_value),) = rule.where
    we, wc = we - 1, wc - 1

    def qualified(candidates: list[Segment]) -> Any:
        for seg in candidates:
            elements = seg.elements
            try:
                value = elements[we][0][wc].strip()
            except IndexError:
                value = ""
            if value if any_value else value in allowed:
                try:
                    raw = elements[e][0][c]
                except IndexError:
                    return None
                if not raw or raw.isspace():
                    return None
                return convert(seg, raw)
        return None
    return qualified


def _pairs_fetch(rule: CompiledRule) -> Callable[[list[Segment]], Any]:
    """X12 qualifier/value pairs (PO106/PO107 ...) of the first candidate: _extract with
    _raw_value's pairs branch, bound."""
    assert rule.pairs is not None
    first, last, wanted = rule.pairs
    convert = _converter(rule)

    def pairs(candidates: list[Segment]) -> Any:
        seg = candidates[0]
        elements = seg.elements
        for position in range(first, min(last, len(elements)), 2):
            if _value(elements, position, 1).strip() in wanted:
                raw = _value(elements, position + 1, 1)
                if not raw or raw.isspace():
                    return None
                return convert(seg, raw)
        return None
    return pairs


def _converter(rule: CompiledRule) -> Callable[[Segment, str], Any]:
    """``_convert`` for one rule; plain strings and numbers without the dispatch."""
    codes = rule.codes
    if rule.kind == "string" and codes is None:
        return lambda seg, raw: raw.strip()
    if rule.kind == "string":
        return lambda seg, raw: code_list(codes).read(raw.strip())
    if rule.kind == "number" and codes is None and "decimals" not in rule.rule:
        return lambda seg, raw: parse_number(raw)
    return partial(_convert, compiled=rule)


_COMPILED: dict[int, tuple[list[Rule], list[CompiledRule]]] = {}


def _compiled_rules(rules: list[Rule]) -> list[CompiledRule]:
    hit = _COMPILED.get(id(rules))
    if hit is None or hit[0] is not rules:
        hit = (rules, [_compile_rule(rule) for rule in rules])
        _COMPILED[id(rules)] = hit
    return hit[1]


FieldStep = tuple[str | None, tuple[str, ...], str, Callable[[list[Segment]], Any] | None,
                  CompiledRule]
_PLANS: dict[int, tuple[list[Rule], tuple[FieldStep, ...]]] = {}


def _field_plan(rules: list[Rule]) -> tuple[FieldStep, ...]:
    """The compiled rules as plain tuples (unpacked by the loop: cheaper than attributes):
    field name (None for a dotted path), path, segment tag, fetch (None: use _rule), rule."""
    hit = _PLANS.get(id(rules))
    if hit is None or hit[0] is not rules:
        steps = tuple((r.name, r.path, r.seg, r.fetch if r.direct else None, r)
                      for r in _compiled_rules(rules))
        hit = _PLANS[id(rules)] = (rules, steps)
    return hit[1]


def _value(elements: list[list[list[str]]], element: int, component: int) -> str:
    # Segment.get without the property lookup per call: this runs for every rule and segment.
    try:
        return elements[element - 1][0][component - 1]
    except IndexError:
        return ""


def _where_ok(seg: Segment, where: list[tuple[int, int, frozenset[str], bool]]) -> bool:
    elements = seg.elements
    for element, component, allowed, any_value in where:
        value = _value(elements, element, component).strip()
        if any_value:
            if not value:
                return False
        elif value not in allowed:
            return False
    return True


class Extractor:
    def __init__(self, spec: dict[str, Any], message: Message) -> None:
        self.spec = spec
        self.message = message
        self.nodes: list[HierNode] = []
        self._resolved: dict[tuple[Any, ...], tuple[Scope, Scope | None]] = {}
        self._node_scopes: dict[int, Scope] = {}

    def run(self) -> dict[str, Any]:
        body = self.message.body
        hierarchy = self.spec.get("hierarchy")
        if hierarchy:
            own, self.nodes = _build_hierarchy(body, hierarchy)
        else:
            own = body
        root = Scope(label="root", segments=[], raw=body)
        data = self._scope(root, own, self.spec)
        for op in self.spec.get("derive", []):
            _derive(data, op)
        return data

    def _scope(self, scope: Scope, segments: list[Segment], spec: LoopSpec) -> dict[str, Any]:
        loops = spec.get("lists", _NO_LOOPS)
        own, found = _partition(segments, loops)
        scope.segments = own
        out: dict[str, Any] = {}
        for name, child in loops.items():
            if "levels" in child:
                items = self._hier_list(scope, name, child)
            else:
                instances = found.get(name, [])
                if "from" in child:
                    # A loop that lives in another scope (X12 856: the N1 loops of the
                    # shipment HL).
                    target = self._resolve(scope, child["from"])
                    instances = _partition(target.raw, _local_loops(name, child))[1][name] \
                        if target else []
                where = child.get("where")
                items = []
                for index, inst in enumerate(instances, start=1):
                    if where and not _matches(inst[0], where):
                        continue
                    sub = Scope(name, [], scope, inst, None, index)
                    items.append(self._scope(sub, inst, child))
            items = [item for item in items if item]
            if items or child.get("keep_empty"):
                out[name] = items
        index = scope.by_tag()
        for name, path, seg_tag, fetch, rule in _field_plan(spec.get("fields", _NO_RULES)):
            if name is not None:
                if name in out:  # an earlier alternative gave the field (never None in out)
                    continue
            elif _get(out, path) is not None:
                continue
            if fetch is not None:  # a plain rule on own segments: _rule() without the call
                candidates = index.get(seg_tag)
                if candidates is None:
                    continue
                value = fetch(candidates)
            else:
                value = self._rule(scope, rule)
            if value is not None and value != "":
                if name is not None:
                    out[name] = value
                else:
                    _put(out, path, value)
        return out

    def _hier_list(self, scope: Scope, name: str, spec: LoopSpec) -> list[dict[str, Any]]:
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
            out.append(self._scope(sub, node.segments, spec))
        return out

    def _resolve(self, scope: Scope, target: str | list[str]) -> Scope | None:
        """``from``: an ancestor loop (by loop name or hierarchy level), "parent" or "root"."""
        targets = set(target) if isinstance(target, list) else {target}
        key = (id(scope), *sorted(targets))
        if key in self._resolved:
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


def _extract(candidates: list[Segment], rule: CompiledRule) -> Any:
    """The value of ``rule`` from the first matching (or ``nth``) of the candidate segments."""
    where, nth = rule.where, rule.nth
    if where is None and nth == 1:
        seg = candidates[0]
    else:
        seg = None
        for candidate in candidates:
            if where is None or _where_ok(candidate, where):
                nth -= 1
                if nth == 0:
                    seg = candidate
                    break
        if seg is None:
            return None
    raw = _raw_value(seg, rule)
    if raw is None or raw.strip() == "":
        return None
    return _convert(seg, raw, rule)


def _raw_value(seg: Segment, rule: CompiledRule) -> str | None:
    elements = seg.elements  # (_value(elements, p, c) is seg.get(p, c) without the calls)
    if rule.pairs is not None:  # X12 qualifier/value element pairs: PO106/PO107 ...
        first, last, wanted = rule.pairs
        for position in range(first, min(last, len(elements)), 2):
            if _value(elements, position, 1).strip() in wanted:
                return _value(elements, position + 1, 1)
        return None
    if rule.composites is not None:  # EDIFACT repeated composites: PIA C212 x 5 ...
        first, last, qualifier_comp, value_comp, wanted = rule.composites
        for position in range(first, min(last, len(elements)) + 1):
            if _value(elements, position, qualifier_comp).strip() in wanted:
                return _value(elements, position, value_comp)
        return None
    if rule.els is not None:
        parts = [_value(elements, element, component).strip() for element, component in rule.els]
        return rule.join.join(p for p in parts if p)
    return _value(elements, *rule.element)


def _gtin(raw: str) -> str | None:
    """A GTIN-8/12/13/14 with a valid check digit, else None (a bad GTIN is not a GTIN)."""
    text = raw.strip()
    if not text.isdigit() or len(text) not in (8, 12, 13, 14):
        return None
    body = text[-2::-1]  # the digits before the check digit, right to left
    # Weights 3, 1, 3, ... from the right, summed in C.
    total = 3 * sum(map(int, body[0::2])) + sum(map(int, body[1::2]))
    return text if (10 - total % 10) % 10 == int(text[-1]) else None


def _convert(seg: Segment, raw: str, compiled: CompiledRule) -> Any:
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
        value = parse_x12_date(raw)
    elif kind == "edifact_date":
        rule = compiled.rule
        fmt = element_value(seg, rule.get("format_el", "1.3"))
        period = parse_edifact_period(raw, fmt)
        value = period.end if rule.get("part") == "end" else period.start
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


def extract(spec: dict[str, Any], message: Message) -> dict[str, Any]:
    # Segments the parser left undecoded go back to that state afterwards: their element lists
    # are then freed right here, while still in the cache, instead of with the whole tree (and
    # a translated file no longer holds every element of every message twice over).
    lazy = [seg for seg in message.segments if seg.raw is not None and not seg.decoded]
    try:
        return Extractor(spec, message).run()
    finally:
        for seg in lazy:
            seg.forget_elements()
