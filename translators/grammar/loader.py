"""Reads the grammar data files under ``translators/grammars/`` into :class:`Grammar` objects.

The file format is described in ``translators/grammars/README.md``. Grammars are compiled once
per (standard, message, version) and cached; a malformed file raises :class:`GrammarError`
naming the file and the entry, so a broken data file is caught by the tests, not in production.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
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


@lru_cache(maxsize=4096)
def codelist(standard: str, ref: str) -> tuple[str, frozenset[str]] | None:
    """(list name, codes) for a data element whose qualifier we interpret, else None."""
    if (standard, ref) not in _codelist_index():
        return None
    data = _read_json(CODELISTS_DIR / standard / f"{ref}.json")
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
    if not has_grammar_file(standard, version, "_segments"):
        raise GrammarError(f"no segment dictionary {standard}/{version}")
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


# -- the closed index ----------------------------------------------------------------------------
# Names that arrive with partner data (message type, version) are looked up in this index of the
# files that exist; they never become a path. A name not in it means "no grammar".

_NAME = re.compile(r"^[A-Za-z0-9]{1,12}$")


@cache
def _index() -> dict[str, dict[str, frozenset[str]]]:
    """standard -> grammar directory -> message types with a file there ("_segments" included
    when the directory has a segment dictionary), from one listing of the package folder."""
    found: dict[str, dict[str, set[str]]] = {}
    for standard_dir in sorted(GRAMMARS_DIR.iterdir()):
        if not standard_dir.is_dir() or not _NAME.match(standard_dir.name):
            continue
        for version_dir in sorted(standard_dir.iterdir()):
            if not version_dir.is_dir() or not _NAME.match(version_dir.name):
                continue
            names = {p.stem for p in version_dir.glob("*.json")
                     if _NAME.match(p.stem.lstrip("_"))}
            found.setdefault(standard_dir.name, {})[version_dir.name] = names
    return {s: {v: frozenset(m) for v, m in dirs.items()} for s, dirs in found.items()}


@cache
def _codelist_index() -> frozenset[tuple[str, str]]:
    return frozenset((p.parent.name, p.stem) for p in CODELISTS_DIR.glob("*/*.json"))


def has_grammar_file(standard: str, version_dir: str, message: str) -> bool:
    """True when ``<standard>/<version_dir>/<message>.json`` is in the index."""
    return message in _index().get(standard, {}).get(version_dir, frozenset())


def _checked_file(standard: str, version_dir: str, message: str) -> Path:
    if not has_grammar_file(standard, version_dir, message):
        raise FileNotFoundError(f"no grammar file {standard}/{version_dir}/{message}.json")
    return message_file(standard, version_dir, message)


@cache
def load_grammar_file(standard: str, version_dir: str, message: str) -> Grammar:
    """Compile one message grammar file (raises GrammarError/FileNotFoundError).

    Cached for the life of the process: its keys come from the closed index, so the cache holds
    at most one entry per grammar file (and compiled grammars keep a stable identity)."""
    path = _checked_file(standard, version_dir, message)
    data = _read_json(path)
    where = f"{standard}/{version_dir}/{message}.json"
    base = data.get("extends")
    if base:  # e.g. a 005010 message that only changes a few things of its 004010 form
        base_dir, _, base_message = str(base).partition("/")
        try:
            base_data = _read_json(_checked_file(standard, base_dir, base_message))
        except FileNotFoundError:
            raise GrammarError(f"{where}: extends unknown grammar {base!r}") from None
        if "extends" in base_data:
            raise GrammarError(f"{where}: {base} extends another grammar itself")
        data = {**base_data, **data}
        del data["extends"]
    dictionary_version = str(data.get("segments_from", version_dir))
    if not has_grammar_file(standard, dictionary_version, "_segments"):
        raise GrammarError(f"{where}: no segment dictionary {dictionary_version!r}")
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
    source = where if not base else f"{where} (extends {base})"
    return Grammar(standard=standard, message=message, version=version_dir,
                   name=str(data.get("name", message)),
                   functional_id=str(data.get("functional_id", "")), segments=segments,
                   root=root, hierarchy=hierarchy,
                   dictionary=frozenset(known) | frozenset(extra), source=source)


# -- which grammar validates a message (versions.json) -------------------------------------------

@cache
def _versions() -> dict[str, Any]:
    return _read_json(GRAMMARS_DIR / "versions.json")


@dataclass(frozen=True, slots=True)
class GrammarChoice:
    """The grammar that validates a message, and why when it is not the message's own version."""

    grammar: Grammar
    sent: str  # the version the message declares
    directory: str  # the grammar directory used
    substituted: bool  # True when ``directory`` is not the declared version

    @property
    def note(self) -> str:
        if not self.substituted:
            return ""
        if edifact_directory_name(self.sent) == self.directory or self.sent[:6] == self.directory:
            return (f"{self.grammar.standard.upper()} version {self.sent!r} read as "
                    f"{self.directory}")
        return (f"no {self.grammar.standard.upper()} {self.grammar.message} grammar for "
                f"version {self.sent or '?'}: validated with the nearest one, {self.directory}")


def _x12_key(version: str) -> int | None:
    head = version[:6]
    return int(head) if len(head) == 6 and head.isascii() and head.isdigit() else None


# 0052 is "D" (directory) in nearly every message; "S" (the standard directories S93A...),
# "0" or nothing occur too: all are read as the D directory of that year and release.
_EDIFACT_VERSION = re.compile(r"^[A-Z0-9]?(\d{2})([A-Z])$")


def edifact_directory_name(version: str) -> str | None:
    """"D96A" for "D96A", "d96a", "096A", "S96A" or "96A"; None for anything else."""
    match = _EDIFACT_VERSION.match(version.strip().upper()) if len(version) <= 8 else None
    return f"D{match.group(1)}{match.group(2)}" if match else None


def _edifact_ordinal(directory: str) -> int | None:
    name = edifact_directory_name(directory)
    if name is None:
        return None
    year = int(name[1:3])
    return (1900 + year if year >= 50 else 2000 + year) * 26 + ord(name[3]) - ord("A")


def _family(standard: str, version: str) -> tuple[int, int, int] | None:
    """(key of the version, low, high of its family) from versions.json, or None."""
    table = _versions().get(standard, {})
    key_of = _x12_key if standard == "x12" else _edifact_ordinal
    key = key_of(version)
    if key is None:
        return None
    for low, high in table.get("families", []):
        low_key, high_key = key_of(low), key_of(high)
        if low_key is not None and high_key is not None and low_key <= key <= high_key:
            return key, low_key, high_key
    return None


def grammar_version_dir(standard: str, message: str, version: str) -> tuple[str, bool] | None:
    """The grammar directory that validates ``message`` sent as ``version`` and whether it is a
    substitute (not the declared version), or None when we have no grammar for it.

    Only names found in the closed index are ever returned."""
    directories = _index().get(standard)
    if not directories or not isinstance(message, str) or not _NAME.match(message) \
            or not isinstance(version, str) or len(version) > 35:
        return None
    table = _versions().get(standard, {})
    if message in table.get("any_version", []):
        return ("service", False) if has_grammar_file(standard, "service", message) else None
    sent = table.get("aliases", {}).get(version, version)
    family = _family(standard, sent)
    if family is None:
        return None
    key, low, high = family
    key_of = _x12_key if standard == "x12" else _edifact_ordinal
    candidates: list[tuple[int, str]] = []
    for directory, messages in directories.items():
        if message not in messages:
            continue
        directory_key = key_of(directory)
        if directory_key is not None and low <= directory_key <= high:
            candidates.append((directory_key, directory))
    if not candidates:
        return None
    # The nearest directory; on a tie the later one (later directories allow more).
    distance, _, directory = min((abs(k - key), -k, d) for k, d in candidates)
    exact = distance == 0 and (version[:6] == directory if standard == "x12"
                               else version == directory)
    return directory, not exact


@lru_cache(maxsize=1024)
def select_grammar(standard: str, message: str, version: str) -> GrammarChoice | None:
    """The grammar for a message as sent (type and version straight from the envelope), with
    the note to report when it is a substitute; None when there is none.

    Bounded cache: type and version come from partner data."""
    found = grammar_version_dir(standard, message, version)
    if found is None:
        return None
    directory, substituted = found
    return GrammarChoice(load_grammar_file(standard, directory, message), version, directory,
                         substituted)


def load_grammar(standard: str, message: str, version: str) -> Grammar | None:
    choice = select_grammar(standard, message, version)
    return None if choice is None else choice.grammar


def available_grammars() -> list[tuple[str, str, str]]:
    """(standard, version directory, message) of every grammar file."""
    return [(standard, directory, message)
            for standard, directories in sorted(_index().items())
            for directory, messages in sorted(directories.items())
            for message in sorted(messages) if not message.startswith("_")]
