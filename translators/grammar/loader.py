"""Reads the grammar data files under ``translators/grammars/`` into :class:`Grammar` objects.

The file format is described in ``translators/grammars/README.md``. Grammars are compiled once
per (standard, message, version) and cached; a malformed file raises :class:`GrammarError`
naming the file and the entry, so a broken data file is caught by the tests, not in production.
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from translators.grammar.model import (
    UNBOUNDED,
    ElementDef,
    Grammar,
    HierarchyDef,
    LoopNode,
    Node,
    SegmentDef,
    SegmentNode,
    SyntaxRule,
)

GRAMMARS_DIR = Path(__file__).resolve().parent.parent / "grammars"
CODELISTS_DIR = Path(__file__).resolve().parent.parent / "codelists"

_X12_ELEMENT = re.compile(r"^(M|O|X)\s+(AN|ID|DT|TM|N\d?|R|B)\s+(\d+)/(\d+)\s+(\w+)(?:\s+x(\d+))?$")
_EDIFACT_ELEMENT = re.compile(r"^(M|C)\s+(an|a|n)(\.\.)?(\d+)\s+(\w+)$")
_COMPOSITE = re.compile(r"^(M|O|X|C)\s+([A-Z]\d{3})(?:\s+x(\d+))?$")
_RULE = re.compile(r"^([PRECL])((?:\d{2})+)$")
_NODE = re.compile(r"^([A-Z][A-Z0-9]{1,2})\s+(M|O|X|C)\s+(\d+|>1)$")


class GrammarError(ValueError):
    """A grammar data file is malformed (file and entry named in the message)."""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        raise GrammarError(f"{path.name}: {exc}") from None
    if not isinstance(data, dict):
        raise GrammarError(f"{path.name}: top level must be an object")
    return data


def _req(code: str) -> str:
    return "M" if code == "M" else "O"


def _max(text: str | int) -> int:
    if text in (">1", "*", 0, "0"):
        return UNBOUNDED
    return int(text)


@cache
def codelist(standard: str, ref: str) -> tuple[str, frozenset[str]] | None:
    """(list name, codes) for a data element whose qualifier we interpret, else None."""
    path = CODELISTS_DIR / standard / f"{ref}.json"
    if not path.is_file():
        return None
    data = _read_json(path)
    return str(data.get("name", ref)), frozenset(data["codes"])


def parse_element(standard: str, spec: str, composites: dict[str, list[str]],
                  where: str) -> ElementDef:
    spec = " ".join(spec.split())
    composite = _COMPOSITE.match(spec)
    if composite and composite.group(2) in composites:
        req, ref, repeat = composite.groups()
        parts = tuple(parse_element(standard, c, composites, f"{where}/{ref}")
                      for c in composites[ref])
        return ElementDef(ref=ref, req=_req(req), type="", min=0, max=0,
                          repeat=int(repeat or 1), components=parts)
    if standard == "x12":
        match = _X12_ELEMENT.match(spec)
        if not match:
            raise GrammarError(f"{where}: bad X12 element spec {spec!r}")
        req, kind, low, high, ref, repeat = match.groups()
        minimum, maximum = int(low), int(high)
    else:
        match = _EDIFACT_ELEMENT.match(spec)
        if not match:
            raise GrammarError(f"{where}: bad EDIFACT element spec {spec!r}")
        req, kind, dots, size, ref = match.groups()
        repeat = None
        maximum = int(size)
        minimum = 1 if dots else maximum
    if minimum > maximum:
        raise GrammarError(f"{where}: min {minimum} > max {maximum} in {spec!r}")
    codes = codelist(standard, ref)
    return ElementDef(ref=ref, req=_req(req), type=kind, min=minimum, max=maximum,
                      repeat=int(repeat or 1), codes=codes[1] if codes else None,
                      codelist=codes[0] if codes else "")


def parse_rule(text: str, where: str) -> SyntaxRule:
    match = _RULE.match(text)
    if not match:
        raise GrammarError(f"{where}: bad syntax rule {text!r}")
    digits = match.group(2)
    positions = tuple(int(digits[i:i + 2]) for i in range(0, len(digits), 2))
    return SyntaxRule(match.group(1), positions)


@cache
def _raw_dictionary(standard: str, version: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Segment and composite specs of a dictionary, merged over the one it ``extends``."""
    data = _read_json(GRAMMARS_DIR / standard / version / "_segments.json")
    segments: dict[str, Any] = {}
    composites: dict[str, list[str]] = {}
    base = data.get("extends")
    if base:
        base_segments, base_composites = _raw_dictionary(standard, base)
        segments.update(base_segments)
        composites.update(base_composites)
    composites.update(data.get("composites", {}))
    segments.update(data.get("segments", {}))
    return segments, composites


@cache
def segment_dictionary(standard: str, version: str) -> tuple[dict[str, SegmentDef],
                                                             dict[str, list[str]]]:
    """Every segment defined for a standard version (following ``extends``; a composite
    redefined by the extending dictionary applies to the inherited segments too)."""
    specs, composites = _raw_dictionary(standard, version)
    segments = {tag: compile_segment(standard, tag, spec, composites,
                                     f"{standard}/{version}/_segments.json {tag}")
                for tag, spec in specs.items()}
    return segments, composites


def compile_segment(standard: str, tag: str, spec: dict[str, Any],
                    composites: dict[str, list[str]], where: str) -> SegmentDef:
    elements = tuple(parse_element(standard, e, composites, f"{where}{i:02d}")
                     for i, e in enumerate(spec.get("elements", []), start=1))
    rules = tuple(parse_rule(r, where) for r in spec.get("rules", []))
    for rule in rules:
        if max(rule.positions) > len(elements):
            raise GrammarError(f"{where}: rule {rule.text} names a missing element")
    return SegmentDef(tag=tag, name=str(spec.get("name", "")), elements=elements, rules=rules)


def parse_structure(items: list[Any], where: str) -> tuple[Node, ...]:
    nodes: list[Node] = []
    for item in items:
        if isinstance(item, str):
            match = _NODE.match(" ".join(item.split()))
            if not match:
                raise GrammarError(f"{where}: bad structure entry {item!r}")
            tag, req, high = match.groups()
            nodes.append(SegmentNode(tag, _req(req), _max(high)))
        elif isinstance(item, dict) and "loop" in item:
            body = parse_structure(item.get("body", []), f"{where}/{item['loop']}")
            if not body:
                raise GrammarError(f"{where}: loop {item['loop']} is empty")
            nodes.append(LoopNode(str(item["loop"]), _req(str(item.get("req", "O"))),
                                  _max(item.get("max", 1)), body))
        else:
            raise GrammarError(f"{where}: bad structure entry {item!r}")
    return tuple(nodes)


def _tags(nodes: tuple[Node, ...]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, LoopNode):
            found |= _tags(node.children)
        else:
            found.add(node.tag)
    return found


def message_file(standard: str, version_dir: str, message: str) -> Path:
    return GRAMMARS_DIR / standard / version_dir / f"{message}.json"


@cache
def load_grammar_file(standard: str, version_dir: str, message: str) -> Grammar:
    """Compile one message grammar file (raises GrammarError/FileNotFoundError)."""
    path = message_file(standard, version_dir, message)
    if not path.is_file():
        raise FileNotFoundError(path)
    data = _read_json(path)
    where = f"{standard}/{version_dir}/{message}.json"
    base = data.get("extends")
    if base:  # e.g. a 005010 message that only changes a few things of its 004010 form
        base_dir, base_message = base.split("/")
        base_data = _read_json(message_file(standard, base_dir, base_message))
        data = {**base_data, **data}
    dictionary_version = str(data.get("segments_from", version_dir))
    known, composites = segment_dictionary(standard, dictionary_version)
    extra = {tag: compile_segment(standard, tag, spec, composites, f"{where} {tag}")
             for tag, spec in data.get("segments", {}).items()}
    root = LoopNode(message, "M", 1, parse_structure(data["structure"], where))
    tags = _tags(root.children)
    segments: dict[str, SegmentDef] = {}
    for tag in tags:
        segment = extra.get(tag) or known.get(tag)
        if segment is None:
            raise GrammarError(f"{where}: segment {tag} is not in the {dictionary_version} "
                               "segment dictionary")
        segments[tag] = segment
    hierarchy = None
    if "hierarchy" in data:
        spec = data["hierarchy"]
        hierarchy = HierarchyDef(str(spec.get("segment", "HL")),
                                 {k: tuple(v) for k, v in spec["parents"].items()})
    return Grammar(standard=standard, message=message, version=version_dir,
                   name=str(data.get("name", message)),
                   functional_id=str(data.get("functional_id", "")), segments=segments,
                   root=root, hierarchy=hierarchy,
                   dictionary=frozenset(known) | frozenset(extra), source=where)


@cache
def _versions() -> dict[str, Any]:
    return _read_json(GRAMMARS_DIR / "versions.json")


def grammar_version_dir(standard: str, message: str, version: str) -> str | None:
    """The grammar directory that validates ``message`` sent as ``version`` (see versions.json),
    or None when we have no grammar for it."""
    table = _versions().get(standard, {})
    version = table.get("aliases", {}).get(version, version)
    candidates: list[str] = []
    if message in table.get("any_version", []):
        candidates.append("service")
    key = version[:6] if standard == "x12" else _edifact_key(version)
    matched = False
    for low, high, directory in table.get("ranges", []):
        low_key = low if standard == "x12" else _edifact_key(low)
        high_key = high if standard == "x12" else _edifact_key(high)
        if low_key <= key <= high_key:
            candidates.append(directory)
            matched = True
    if matched:  # a known version whose directory lacks this message: the older grammar
        candidates.extend(table.get("fallback", []))
    for directory in candidates:
        if message_file(standard, directory, message).is_file():
            return directory
    return None


def _edifact_key(version: str) -> str:
    """Sortable key of an EDIFACT directory ("D96A" -> "1996A", "D01B" -> "2001B")."""
    match = re.match(r"^[A-Z0-9](\d{2})([A-Z])$", version)
    if not match:
        return version
    year = int(match.group(1))
    return f"{1900 + year if year >= 50 else 2000 + year}{match.group(2)}"


@lru_cache(maxsize=1024)
def load_grammar(standard: str, message: str, version: str) -> Grammar | None:
    # Cached: asked once per message, and finding the directory touches the file system
    # (bounded: type and version come from the input).
    directory = grammar_version_dir(standard, message, version)
    if directory is None:
        return None
    return load_grammar_file(standard, directory, message)


def available_grammars() -> list[tuple[str, str, str]]:
    """(standard, version directory, message) of every grammar file."""
    found = []
    for path in sorted(GRAMMARS_DIR.glob("*/*/*.json")):
        if not path.name.startswith("_"):
            found.append((path.parent.parent.name, path.parent.name, path.stem))
    return found
