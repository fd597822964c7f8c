"""Generate the UN/EDIFACT message grammars from the BizTalk EDIFACT schemas.

The public repository ``microsoft/Integration`` (MIT licence) carries one XSD per directory and
message, ``BizTalk Server/Schema/EDIFACT/<DIR>/EFACT_<DIR>_<MESSAGE>.xsd``, for every directory
D93A-D10B. Each XSD holds the message's segment table (segment groups as ``...Loop<n>``
elements with minOccurs/maxOccurs), the segments with their composites and simple data
elements (type and length; the reference number ends the ``notes`` text, ``..._7402``) and the
code lists inline (``EDIFACT_ID_<ref>`` enumerations).

This script turns them into our grammar data files (see ``translators/grammars/README.md``)::

    python scripts/grammars/edifact_from_biztalk.py SOURCE [--ref HEAD] [--out translators/grammars]

SOURCE is a clone of the repository: a working tree, or a bare git directory (read with
``git show``; ``--ref`` picks the commit). Only generated facts are written, never the XSDs:

- ``edifact/<DIR>/<MESSAGE>.json``: the segment table. Segment groups are numbered SG1, SG2...
  in order of appearance, as the directories number them. A message whose table is identical
  to an earlier directory's is written as ``{"extends": "<DIR>/<MESSAGE>"}``.
- ``edifact/<DIR>/_segments.json``: every segment (and composite) our message types use in that
  directory, stored as the difference to the previous directory (``extends``); the first one
  extends ``service`` (UNH/UNT and the CONTRL segments, kept by hand).
- ``codelists/edifact/<REF>.json`` for the qualifiers we interpret (``CODELISTS``): the union of
  the codes of every directory, names kept from the existing file.

Coded elements carry no length in these XSDs (only their enumeration). Their length is taken
from the same element written as plain text elsewhere in the same directory, else in the
nearest directory that writes it so, else ``an..3`` (or the longest code, if longer).

Every written file names the generator and the source commit. Re-running on the same commit
reproduces the files byte for byte.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GENERATOR = "scripts/grammars/edifact_from_biztalk.py"
REPOSITORY = "microsoft/Integration"
SCHEMA_DIR = "BizTalk Server/Schema/EDIFACT"
DIRECTORIES = ("D93A", "D94A", "D94B", "D95A", "D95B", "D96A", "D96B", "D97A", "D97B", "D98A",
               "D98B", "D99A", "D99B", "D00A", "D00B", "D01A", "D01B", "D01C", "D02A", "D02B",
               "D03A", "D03B", "D04A", "D04B", "D05A", "D05B", "D06A", "D06B", "D07A", "D07B",
               "D08A", "D08B", "D09A", "D09B", "D10A", "D10B")
MESSAGES = ("ORDERS", "ORDRSP", "ORDCHG", "DESADV", "INVOIC", "INVRPT", "DELFOR", "DELJIT",
            "APERAK")
# Qualifiers whose code lists we check (translators/codelists/edifact/<ref>.json).
CODELISTS = ("1225",)
SERVICE_TAGS = ("UNH", "UNT")
# Deliberate relaxations (translators/grammars/README.md): 6411 (measurement unit) grew from
# an..3 to an..8 in D03A; real partners on older directories already send 4-character units
# (EANCOM D01B files with "GBND"), and no receiver refuses them.
RELAXED_LENGTHS = {"6411": 8}

XS = "{http://www.w3.org/2001/XMLSchema}"
LOOP = re.compile(r"Loop\d+$")
REF_IN_NOTES = re.compile(r"_(\d{4})$")
BASES = {"EDIFACT_AN": "an", "EDIFACT_N": "n", "EDIFACT_A": "a", "EDIFACT_ID": "an"}


# -- reading the source -------------------------------------------------------------------------

class Source:
    """The repository clone: a working tree or a bare git directory."""

    def __init__(self, path: Path, ref: str) -> None:
        self.path = path
        self.bare = not (path / SCHEMA_DIR).is_dir()
        self.ref = ref
        self.commit = self._git("rev-parse", f"{ref}^{{commit}}").strip() if self.bare or \
            (path / ".git").exists() else "unknown"

    def _git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.path), *args], check=True,
                              capture_output=True, text=True).stdout

    def names(self, directory: str) -> set[str]:
        if not self.bare:
            return {p.name for p in (self.path / SCHEMA_DIR / directory).glob("*.xsd")}
        listing = self._git("ls-tree", "--name-only", self.ref, f"{SCHEMA_DIR}/{directory}/")
        return {line.rsplit("/", 1)[-1] for line in listing.splitlines()}

    def read(self, directory: str, name: str) -> bytes:
        if not self.bare:
            return (self.path / SCHEMA_DIR / directory / name).read_bytes()
        return subprocess.run(["git", "-C", str(self.path), "show",
                               f"{self.ref}:{SCHEMA_DIR}/{directory}/{name}"],
                              check=True, capture_output=True).stdout

    def licence(self) -> str:
        if not self.bare:
            return (self.path / "LICENSE").read_text()
        return self._git("show", f"{self.ref}:LICENSE")


# -- one XSD ------------------------------------------------------------------------------------

@dataclass
class Simple:
    req: str
    kind: str  # an / n / a
    exact: bool
    size: int | None  # None: a coded element whose length is resolved later
    ref: str

    def spec(self) -> str:
        size = self.size if self.size is not None else 3
        return f"{self.req} {self.kind}{'' if self.exact else '..'}{size} {self.ref}"


@dataclass
class Parsed:
    directory: str
    message: str
    name: str
    structure: list[Any]
    segments: dict[str, tuple[str, list[Any]]]  # tag -> (name, [Simple | (req, composite, n)])
    composites: dict[str, list[Simple]]
    codes: dict[str, set[str]] = field(default_factory=dict)
    quirks: list[str] = field(default_factory=list)


def _info(node: ET.Element) -> dict[str, str]:
    for child in node.iter():
        if child.tag.endswith("}recordInfo") or child.tag.endswith("}fieldInfo"):
            return child.attrib
    return {}


def _sequence(node: ET.Element) -> list[ET.Element]:
    sequence = node.find(f"{XS}complexType/{XS}sequence")
    return [] if sequence is None else [c for c in sequence if c.tag == f"{XS}element"]


def _occurs(node: ET.Element) -> tuple[str, int | str]:
    req = "C" if node.get("minOccurs") == "0" else "M"
    high = node.get("maxOccurs", "1")
    return req, (">1" if high == "unbounded" else int(high))


def _strip(name: str) -> str:
    return re.sub(r"_\d+$", "", name)


def _simple(node: ET.Element, req: str, where: str) -> Simple:
    notes = _info(node).get("notes", "")
    match = REF_IN_NOTES.search(notes)
    if not match:
        raise ValueError(f"{where}: no data element reference in {notes!r}")
    ref = match.group(1)
    coded = node.get("type", "")
    if coded.startswith("EDIFACT_ID_"):
        return Simple(req, "an", False, None, ref)
    restriction = node.find(f"{XS}simpleType/{XS}restriction")
    if restriction is None:
        raise ValueError(f"{where}: element {node.get('name')} has no type")
    base = restriction.get("base", "")
    if base.startswith("EDIFACT_ID_"):
        kind = "an"
    elif base in BASES:
        kind = BASES[base]
    else:
        raise ValueError(f"{where}: unknown base {base!r}")
    low = restriction.find(f"{XS}minLength")
    high = restriction.find(f"{XS}maxLength")
    if high is None:
        return Simple(req, kind, False, None, ref)
    maximum = int(high.get("value", "0"))
    minimum = int(low.get("value", "1")) if low is not None else 1
    return Simple(req, kind, minimum == maximum and maximum > 1, maximum, ref)


def parse_xsd(data: bytes, directory: str, message: str) -> Parsed:
    root = ET.fromstring(data)
    defs = {e.get("name", ""): e for e in root if e.tag == f"{XS}element"}
    codes: dict[str, set[str]] = {}
    for simple_type in root.findall(f"{XS}simpleType"):
        name = simple_type.get("name", "")
        if name.startswith("EDIFACT_ID_"):
            codes[name[len("EDIFACT_ID_"):]] = {
                e.get("value", "") for e in simple_type.iter(f"{XS}enumeration")}
    top = defs[f"EFACT_{directory}_{message}"]
    where = f"{directory}/{message}"
    parsed = Parsed(directory, message, _message_name(_info(top).get("notes", message)), [],
                    {}, {}, codes)
    counter = [0]
    quirks: list[str] = []

    def segment(tag: str, node: ET.Element) -> None:
        elements: list[Any] = []
        for child in _sequence(node):
            req, high = _occurs(child)
            repeat = 1 if high == 1 else (99 if high == ">1" else int(high))
            if child.get("ref"):
                composite = _strip(child.get("ref", ""))
                components = [
                    _simple(c, _occurs(c)[0], f"{where} {composite}")
                    for c in _sequence(defs[child.get("ref", "")])]
                known = parsed.composites.setdefault(composite, components)
                # (the same composite written twice differently: keep the wider one)
                if len(components) > len(known):
                    parsed.composites[composite] = components
                elements.append((req, composite, repeat))
            else:
                simple = _simple(child, req, f"{where} {tag}")
                elements.append((simple, repeat))
        name = _info(node).get("notes", tag)
        known_segment = parsed.segments.get(tag)
        if known_segment is None or len(elements) > len(known_segment[1]):
            parsed.segments[tag] = (name.capitalize(), elements)

    def table(node: ET.Element) -> list[Any]:
        items: list[Any] = []
        for child in _sequence(node):
            req, high = _occurs(child)
            ref = child.get("ref")
            if ref is None:  # UNH / UNT are written inline
                tag = child.get("name", "")
                items.append(f"{tag} M 1")
                continue
            target = defs[ref]
            if LOOP.search(ref):
                counter[0] += 1
                name = f"SG{counter[0]}"
                body = table(target)
                trigger = body[0].split() if isinstance(body[0], str) else None
                if trigger is not None and trigger[1:] != ["M", "1"]:
                    # A group starts with one mandatory segment; a few XSDs (D94A DELFOR)
                    # carry the group's status on its first segment instead: a group whose
                    # first segment is conditional is itself conditional.
                    body[0] = f"{trigger[0]} M 1"
                    req = "C"
                    quirks.append(f"{where} {name}")
                items.append({"loop": name, "req": req, "max": high, "body": body})
                continue
            tag = _info(child).get("tag_name") or _info(target).get("tag_name") or _strip(ref)
            items.append(f"{tag} {req} {high}")
            if tag not in SERVICE_TAGS:
                segment(tag, target)
        return items

    parsed.structure = table(top)
    parsed.quirks = quirks
    return parsed


def _message_name(notes: str) -> str:
    name = re.sub(r"\s+message$", "", notes.strip(), flags=re.IGNORECASE)
    return name[:1].upper() + name[1:]


# -- coded element lengths ----------------------------------------------------------------------

def _ordinal(directory: str) -> int:
    year = int(directory[1:3])
    return (1900 + year if year >= 50 else 2000 + year) * 3 + "ABC".index(directory[3])


def resolve_lengths(parsed: list[Parsed]) -> None:
    """Give every coded element (no length in the XSD) its length (see the module doc)."""
    explicit: dict[str, dict[str, int]] = {}  # ref -> directory -> longest explicit length
    longest_code: dict[str, int] = {}
    for item in parsed:
        for ref, values in item.codes.items():
            longest_code[ref] = max([longest_code.get(ref, 0), *map(len, values)])
        for simple in _simples(item):
            if simple.size is not None:
                by_dir = explicit.setdefault(simple.ref, {})
                by_dir[item.directory] = max(by_dir.get(item.directory, 0), simple.size)
    for item in parsed:
        for simple in _simples(item):
            if simple.size is not None:
                continue
            found = explicit.get(simple.ref, {})
            if item.directory in found:
                simple.size = found[item.directory]
            elif found:
                here = _ordinal(item.directory)
                nearest = min(found, key=lambda d: (abs(_ordinal(d) - here), -_ordinal(d)))
                simple.size = found[nearest]
            else:
                simple.size = max(3, longest_code.get(simple.ref, 0))
    for item in parsed:
        for simple in _simples(item):
            if simple.ref in RELAXED_LENGTHS and simple.size is not None:
                simple.size = max(simple.size, RELAXED_LENGTHS[simple.ref])
                simple.exact = False


def _simples(item: Parsed) -> list[Simple]:
    found = [c for components in item.composites.values() for c in components]
    for _, elements in item.segments.values():
        found.extend(e[0] for e in elements if isinstance(e[0], Simple))
    return found


# -- writing ------------------------------------------------------------------------------------

def _element_spec(element: tuple[Any, ...]) -> str:
    if isinstance(element[0], Simple):
        simple, repeat = element
        return simple.spec() + (f" x{repeat}" if repeat > 1 else "")
    req, composite, repeat = element
    return f"{req} {composite}" + (f" x{repeat}" if repeat > 1 else "")


def dictionary(items: list[Parsed]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    segments: dict[str, Any] = {}
    composites: dict[str, list[str]] = {}
    for item in items:
        for tag, (name, elements) in sorted(item.segments.items()):
            spec = {"name": name, "elements": [_element_spec(e) for e in elements]}
            if tag not in segments or len(spec["elements"]) > len(segments[tag]["elements"]):
                segments[tag] = spec
        for ref, components in sorted(item.composites.items()):
            specs = [c.spec() for c in components]
            if ref not in composites or len(specs) > len(composites[ref]):
                composites[ref] = specs
    return dict(sorted(segments.items())), dict(sorted(composites.items()))


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    # One structure entry / element spec per line is readable; short lists stay on one line.
    path.write_text(text, encoding="utf-8")


def header(source: Source, what: str) -> dict[str, str]:
    return {"generator": GENERATOR, "source": f"{REPOSITORY}@{source.commit} {what}"}


def generate(source: Source, out: Path, directories: list[str], messages: list[str],
             log: Any = sys.stderr) -> dict[str, int]:
    parsed: list[Parsed] = []
    for directory in directories:
        names = source.names(directory)
        for message in messages:
            name = f"EFACT_{directory}_{message}.xsd"
            if name not in names:
                print(f"{directory} {message}: not in the source", file=log)
                continue
            parsed.append(parse_xsd(source.read(directory, name), directory, message))
    resolve_lengths(parsed)
    for item in parsed:
        for quirk in item.quirks:
            print(f"{quirk}: first segment of the group was not M 1 in the source: fixed",
                  file=log)
    stats = {"messages": 0, "messages_extending": 0, "dictionaries": 0,
             "groups_fixed": sum(len(p.quirks) for p in parsed)}
    edifact = out / "edifact"
    previous_tables: dict[str, tuple[str, list[Any]]] = {}  # message -> (first dir, table)
    previous_segments: dict[str, Any] = {}
    previous_composites: dict[str, list[str]] = {}
    previous_dir = "service"
    for directory in directories:
        items = [p for p in parsed if p.directory == directory]
        if not items:
            continue
        for item in items:
            body: dict[str, Any] = {"standard": "edifact", "message": item.message,
                                    "version": directory, "name": item.name}
            body.update(header(source, f"{SCHEMA_DIR}/{directory}/EFACT_{directory}_"
                                       f"{item.message}.xsd"))
            earlier = previous_tables.get(item.message)
            if earlier is not None and earlier[1] == item.structure:
                body["extends"] = f"{earlier[0]}/{item.message}"
                stats["messages_extending"] += 1
            else:
                body["structure"] = item.structure
                previous_tables[item.message] = (directory, item.structure)
            _dump(edifact / directory / f"{item.message}.json", body)
            stats["messages"] += 1
        segments, composites = dictionary(items)
        changed_segments = {t: s for t, s in segments.items() if previous_segments.get(t) != s}
        changed_composites = {r: c for r, c in composites.items()
                              if previous_composites.get(r) != c}
        body = {"standard": "edifact", "version": directory, "extends": previous_dir}
        body.update(header(source, f"{SCHEMA_DIR}/{directory}/"))
        body["description"] = (f"UN/EDIFACT {directory}: the segments and composites of our "
                               f"message types, as changed from {previous_dir}.")
        body["composites"] = changed_composites
        body["segments"] = changed_segments
        _dump(edifact / directory / "_segments.json", body)
        stats["dictionaries"] += 1
        previous_segments.update(segments)
        previous_composites.update(composites)
        previous_dir = directory
    for ref in CODELISTS:
        union: set[str] = set()
        for item in parsed:
            union |= item.codes.get(ref, set())
        if union:
            write_codelist(out.parent / "codelists" / "edifact" / f"{ref}.json", ref, union,
                           source)
    return stats


def write_codelist(path: Path, ref: str, codes: set[str], source: Source) -> None:
    names: dict[str, str] = {}
    title = ref
    if path.is_file():
        existing = json.loads(path.read_text(encoding="utf-8"))
        names = existing.get("codes", {})
        title = existing.get("name", ref)
    merged = {code: names.get(code, "") for code in codes | set(names)}
    ordered = dict(sorted(merged.items(), key=lambda kv: (len(kv[0]), kv[0])))
    body: dict[str, Any] = {"name": title}
    body.update(header(source, f"{SCHEMA_DIR}/*/EFACT_*.xsd EDIFACT_ID_{ref}"))
    body["codes"] = ordered
    _dump(path, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path,
                        help="clone of microsoft/Integration (working tree or bare git dir)")
    parser.add_argument("--ref", default="HEAD", help="commit to read (bare clone)")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[2] / "translators" / "grammars")
    parser.add_argument("--directories", nargs="*", default=list(DIRECTORIES))
    parser.add_argument("--messages", nargs="*", default=MESSAGES)
    args = parser.parse_args(argv)
    source = Source(args.source, args.ref)
    if "MIT License" not in source.licence():
        print("the source's LICENSE is not the MIT licence: refusing", file=sys.stderr)
        return 1
    stats = generate(source, args.out, list(args.directories), list(args.messages))
    print(json.dumps({"commit": source.commit, **stats}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
