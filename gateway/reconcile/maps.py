"""Which event fields a partner's EDI path can carry at all, read from its message maps and
guide overlays (the data the reconciler's coverage takes as declared, see
``reconciler.coverage``).

A field no rule of the map fills (an X12 810 map with no rule for a line amount) or whose
segment or element the partner's guide marks "not used" never reaches the EDI copy: it is
not comparable from the first document on, before any document has been seen. Names are the
reconciler's field names: dotted, without element keys (``lines.amount``), every enclosing
name included (``lines``), as the derive operations of the map reshape them (a nested
despatch advice's ``orders.packs.package_type``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from translators import Overlay, OverlayError, load_overlay
from translators.mapping.engine import available_maps, load_map

# The entries a line's ``identifiers`` list holds (translators.mapping: "Item identifiers").
IDENTIFIER_ENTRY = ("qualifier", "id", "meaning", "source")
NOT_USED = "N"


def edi_fields(standard: str, document_type: str, guides: Iterable[str] = ()
               ) -> frozenset[str] | None:
    """Every field the EDI maps of ``standard`` producing ``document_type`` can fill, less
    what the overlays forbid; None when no map produces that type (nothing to declare)."""
    if standard not in ("x12", "edifact"):
        return None
    overlays = _overlays(tuple(guides))
    found: set[str] | None = None
    for std, message in available_maps():
        if std != standard:
            continue
        spec = load_map(std, message)
        if spec is None or spec.get("event_type") != document_type:
            continue
        forbidden = _forbidden(overlays, standard, message)
        found = (found or set()) | map_fields(spec, forbidden)
    return None if found is None else frozenset(found)


def _overlays(guides: tuple[str, ...]) -> tuple[Overlay, ...]:
    out = []
    for name in guides:
        try:
            out.append(load_overlay(name))
        except OverlayError:
            continue  # refused at profile import; a guide removed since must not stop runs
    return tuple(out)


def _forbidden(overlays: tuple[Overlay, ...], standard: str, message: str
               ) -> frozenset[tuple[str, int | None]]:
    """(segment tag, element position or None for the whole segment) marked not used."""
    out: set[tuple[str, int | None]] = set()
    for overlay in overlays:
        if overlay.standard != standard or message not in overlay.messages:
            continue
        for seg in overlay.segments:
            if seg.req == NOT_USED:
                tag = seg.tag.rsplit("/", 1)[-1]
                out.add((tag.removeprefix("loop:"), None))
        for el in overlay.elements:
            if el.req == NOT_USED and el.component is None:
                out.add((el.segment, el.position))
    return frozenset(out)


def _with_parents(name: str, into: set[str]) -> None:
    parts = name.split(".")
    for n in range(1, len(parts) + 1):
        into.add(".".join(parts[:n]))


def _usable(rule: dict[str, Any], forbidden: frozenset[tuple[str, int | None]]) -> bool:
    seg = rule.get("seg")
    if not isinstance(seg, str):
        return True  # const / index / identifiers: no single segment to forbid
    if (seg, None) in forbidden:
        return False
    elements = [rule["el"]] if "el" in rule else list(rule.get("els", ()))
    positions = {int(str(e).split(".")[0]) for e in elements if str(e).split(".")[0].isdigit()}
    return not positions or not all((seg, p) in forbidden for p in positions)


def _scope(spec: dict[str, Any], prefix: str, forbidden: frozenset[tuple[str, int | None]],
           into: set[str]) -> None:
    for rule in spec.get("fields", ()):
        if isinstance(rule, dict) and isinstance(rule.get("field"), str) \
                and _usable(rule, forbidden):
            _with_parents(prefix + rule["field"], into)
    for name, loop in (spec.get("lists") or {}).items():
        if not isinstance(loop, dict) or (loop.get("start"), None) in forbidden:
            continue
        inner: set[str] = set()
        _scope(loop, f"{prefix}{name}.", forbidden, inner)
        if inner:
            into |= inner
            _with_parents(prefix + name, into)


def _subtree(names: set[str], source: str) -> set[str]:
    """Suffixes ("" for ``source`` itself, ".x.y" below it) of the names under ``source``."""
    return {n[len(source):] for n in names if n == source or n.startswith(source + ".")}


def _copy(names: set[str], source: str, target: str) -> None:
    for suffix in _subtree(names, source):
        _with_parents(target + suffix, names)


def map_fields(spec: dict[str, Any],
               forbidden: frozenset[tuple[str, int | None]] = frozenset()) -> set[str]:
    """The field names one map can fill, after its derive operations."""
    names: set[str] = set()
    _scope(spec, "", forbidden, names)
    derive = [op for op in spec.get("derive", ()) if isinstance(op, dict)]
    picked: dict[str, Any] = next(
        (op.get("fields", {}) for op in derive if op.get("op") == "identifiers"), {})
    for name in [n for n in names if n.rsplit(".", 1)[-1] == "identifiers"]:
        owner = name[: -len("identifiers")]
        for entry in IDENTIFIER_ENTRY:
            names.add(f"{name}.{entry}")
        for field in picked:
            names.add(owner + field)
    for op in derive:
        kind = op.get("op")
        if kind == "project":
            for field in op.get("fields", ()):
                _copy(names, f"{op['source']}.{field}", f"{op['target']}.{field}")
        elif kind == "nest":
            source, at = op["source"], op["target"]
            for level in op.get("levels", ()):
                for field in level.get("fields", ()):
                    _copy(names, f"{source}.{field}", f"{at}.{field}")
                at = f"{at}.{level['child']}"
            for field in op.get("item_fields", ()):
                _copy(names, f"{source}.{field}", f"{at}.{field}")
        elif kind == "flatten":
            _copy(names, f"{op['source']}.{op['child']}", op["target"])
        elif kind == "drop":
            for field in op.get("fields", ()):
                names -= {field} | {n for n in names if n.startswith(field + ".")}
    return names


@cache
def cached_edi_fields(standard: str, document_type: str, guides: tuple[str, ...]
                      ) -> frozenset[str] | None:
    """:func:`edi_fields`, once per process (maps and overlays are package data)."""
    return edi_fields(standard, document_type, guides)
