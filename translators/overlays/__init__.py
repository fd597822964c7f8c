"""Partner implementation-guide overlays: files that narrow a grammar, never widen it.

An overlay (``translators/overlays/<name>.toml``, format in ``overlays/README.md``) can make a
segment or element mandatory, forbid one ("not used"), restrict a code list, or tighten a
maximum length or repeat count. :func:`apply_overlays` returns a new grammar; the base grammar
is shared and never changed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from translators.grammar.model import (
    ElementDef,
    Grammar,
    LoopNode,
    Node,
    SegmentDef,
    SegmentNode,
)

OVERLAYS_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_ELEMENT_REF = re.compile(r"^([A-Z][A-Z0-9]{1,2}?)(\d{2})(?:-(\d+))?$")
_REQ = {"M": "M", "mandatory": "M", "O": "O", "optional": "O", "N": "N", "not_used": "N"}


class OverlayError(ValueError):
    """An overlay file is missing or malformed (one line, names the file and the entry)."""


@dataclass(frozen=True, slots=True)
class ElementRule:
    segment: str
    position: int
    component: int | None
    req: str | None = None
    codes: frozenset[str] | None = None
    max: int | None = None
    min: int | None = None


@dataclass(frozen=True, slots=True)
class SegmentRule:
    tag: str  # segment tag, or "loop:NAME" for a loop / segment group
    req: str | None = None
    max: int | None = None


@dataclass(frozen=True, slots=True)
class Overlay:
    name: str
    standard: str
    messages: tuple[str, ...]
    versions: tuple[str, ...] = ()  # grammar version directories; empty = all
    description: str = ""
    segments: tuple[SegmentRule, ...] = ()
    elements: tuple[ElementRule, ...] = field(default_factory=tuple)

    def applies_to(self, grammar: Grammar) -> bool:
        return (grammar.standard == self.standard and grammar.message in self.messages
                and (not self.versions or grammar.version in self.versions))


def load_overlay(name: str) -> Overlay:
    if not _NAME.match(name):
        raise OverlayError(f"overlay name {name!r} is not a plain file name")
    path = OVERLAYS_DIR / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in OVERLAYS_DIR.glob("*.toml"))) or "none"
        raise OverlayError(f"no overlay named {name!r} (known: {known})")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise OverlayError(f"{path.name}: {exc}") from None
    return parse_overlay(name, data)


def parse_overlay(name: str, data: dict[str, Any]) -> Overlay:
    where = f"overlay {name}"
    standard = data.get("standard")
    if standard not in ("x12", "edifact"):
        raise OverlayError(f"{where}: standard must be 'x12' or 'edifact'")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise OverlayError(f"{where}: 'messages' must list at least one message type")
    segments = tuple(_segment_rule(where, tag, spec)
                     for tag, spec in data.get("segments", {}).items())
    elements = tuple(_element_rule(where, ref, spec)
                     for ref, spec in data.get("elements", {}).items())
    return Overlay(name=name, standard=standard, messages=tuple(str(m) for m in messages),
                   versions=tuple(str(v) for v in data.get("versions", [])),
                   description=str(data.get("description", "")), segments=segments,
                   elements=elements)


def _req(where: str, value: Any) -> str | None:
    if value is None:
        return None
    if value not in _REQ:
        raise OverlayError(f"{where}: req must be one of {sorted(_REQ)}, not {value!r}")
    return _REQ[value]


def _segment_rule(where: str, tag: str, spec: dict[str, Any]) -> SegmentRule:
    if not isinstance(spec, dict):
        raise OverlayError(f"{where}: segments.{tag} must be a table")
    high = spec.get("max")
    if high is not None and (not isinstance(high, int) or high < 1):
        raise OverlayError(f"{where}: segments.{tag}.max must be a positive integer")
    return SegmentRule(tag=tag, req=_req(f"{where}: segments.{tag}", spec.get("req")),
                       max=high)


def _element_rule(where: str, ref: str, spec: dict[str, Any]) -> ElementRule:
    match = _ELEMENT_REF.match(ref)
    if not match or not isinstance(spec, dict):
        raise OverlayError(f"{where}: element key {ref!r} must look like 'BEG05' or 'NAD02-1' "
                           "with a table of rules")
    codes = spec.get("codes")
    if codes is not None and (not isinstance(codes, list) or not codes):
        raise OverlayError(f"{where}: elements.{ref}.codes must be a non-empty list")
    for key in ("max", "min"):
        if key in spec and (not isinstance(spec[key], int) or spec[key] < 1):
            raise OverlayError(f"{where}: elements.{ref}.{key} must be a positive integer")
    return ElementRule(segment=match.group(1), position=int(match.group(2)),
                       component=int(match.group(3)) if match.group(3) else None,
                       req=_req(f"{where}: elements.{ref}", spec.get("req")),
                       codes=frozenset(str(c) for c in codes) if codes else None,
                       max=spec.get("max"), min=spec.get("min"))


def apply_overlays(grammar: Grammar, overlays: tuple[Overlay, ...]) -> Grammar:
    relevant = tuple(o for o in overlays if o.applies_to(grammar))
    if not relevant:
        return grammar
    key = (id(grammar), relevant)
    narrowed = _applied.get(key)
    if narrowed is None:
        narrowed = _applied[key] = _apply(grammar, relevant)
    return narrowed


# Base grammars live for the whole process (the loader caches them), so their id is stable.
_applied: dict[tuple[int, tuple[Overlay, ...]], Grammar] = {}


def _apply(grammar: Grammar, overlays: tuple[Overlay, ...]) -> Grammar:
    segments = dict(grammar.segments)
    root = grammar.root
    for overlay in overlays:
        for rule in overlay.segments:
            root, hit = _narrow_nodes(root, rule)
            if not hit:
                raise OverlayError(f"overlay {overlay.name}: {rule.tag} is not in the "
                                   f"{grammar.message} grammar")
        for element_rule in overlay.elements:
            definition = segments.get(element_rule.segment)
            if definition is None or element_rule.position > len(definition.elements):
                raise OverlayError(f"overlay {overlay.name}: {element_rule.segment}"
                                   f"{element_rule.position:02d} is not in the "
                                   f"{grammar.message} grammar")
            segments[element_rule.segment] = _narrow_segment(definition, element_rule,
                                                             overlay.name)
    return replace(grammar, segments=segments, root=root,
                   overlays=grammar.overlays + tuple(o.name for o in overlays))


def _narrow_nodes(loop: LoopNode, rule: SegmentRule) -> tuple[LoopNode, bool]:
    """Apply one segment/loop rule. ``PER`` names a segment of the message level, ``N1/PER``
    one inside loop N1, ``loop:N1`` the loop itself, ``PO1/loop:SCH`` a nested loop."""
    *path, target = rule.tag.split("/")
    return _narrow_at(loop, path, target, rule)


def _narrow_at(loop: LoopNode, path: list[str], target: str,
               rule: SegmentRule) -> tuple[LoopNode, bool]:
    children: list[Node] = []
    hit = False
    for child in loop.children:
        if path:
            if isinstance(child, LoopNode) and child.name == path[0]:
                child, inner = _narrow_at(child, path[1:], target, rule)
                hit = hit or inner
        elif isinstance(child, LoopNode):
            if target == f"loop:{child.name}":
                child = replace(child, req=rule.req or child.req,
                                max=min(child.max, rule.max or child.max))
                hit = True
        elif child.tag == target:
            child = SegmentNode(child.tag, rule.req or child.req,
                                min(child.max, rule.max or child.max))
            hit = True
        children.append(child)
    return replace(loop, children=tuple(children)), hit


def _narrow_element(element: ElementDef, rule: ElementRule) -> ElementDef:
    codes = element.codes
    if rule.codes is not None:
        codes = rule.codes if codes is None else codes & rule.codes
    return replace(element, req=rule.req or element.req, codes=codes,
                   max=min(element.max, rule.max or element.max),
                   min=max(element.min, rule.min or element.min),
                   codelist=element.codelist if rule.codes is None else "the partner guide")


def _narrow_segment(definition: SegmentDef, rule: ElementRule, overlay: str) -> SegmentDef:
    elements = list(definition.elements)
    target = elements[rule.position - 1]
    if rule.component is None:
        target = _narrow_element(target, rule)
    else:
        if rule.component > len(target.components):
            raise OverlayError(f"overlay {overlay}: {definition.tag}{rule.position:02d}-"
                               f"{rule.component} is not a component of {target.ref}")
        parts = list(target.components)
        parts[rule.component - 1] = _narrow_element(parts[rule.component - 1], rule)
        target = replace(target, components=tuple(parts))
    elements[rule.position - 1] = target
    return replace(definition, elements=tuple(elements))
