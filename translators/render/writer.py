"""Checks on a rendered tree before the syntax layer writes it: X12 delimiters in data and the
EDIFACT UNOA/UNOB repertoires, reported with the segment and element at fault."""

from __future__ import annotations

import re

from translators.render.profile import RenderError, RenderProfile
from translators.syntax.tree import Interchange, Segment

# UNOA (ISO 646 upper case subset) and UNOB (adds lower case) repertoires, syntax 3 Annex A.
_UNOA = re.compile(r"[A-Z0-9 .,\-()/='+:?!\"%&*;<>]*")
_UNOB = re.compile(r"[A-Za-z0-9 .,\-()/='+:?!\"%&*;<>@\[\]\\{}|~^_`#$]*")


def _segments(tree: Interchange) -> list[Segment]:
    out = [tree.header]
    for group in tree.groups:
        if group.header is not None:
            out.append(group.header)
        for message in group.messages:
            out += message.segments
        if group.trailer is not None:
            out.append(group.trailer)
    if tree.trailer is not None:
        out.append(tree.trailer)
    return out


def check_x12_values(tree: Interchange) -> None:
    """X12 has no release character: a delimiter inside data would change the structure."""
    d = tree.delimiters
    forbidden = {c for c in (d.segment, d.element, d.component, d.repetition) if c}
    for seg in _segments(tree):
        if seg.tag == "ISA":
            continue
        for position, element in enumerate(seg.elements, start=1):
            for rep in element:
                for value in rep:
                    bad = forbidden.intersection(value)
                    if bad:
                        raise RenderError(
                            f"X12 {seg.tag}{position:02d} value {value!r} contains the delimiter "
                            f"{''.join(sorted(bad))!r}; X12 has no escape character")
                    if not value.isascii() or not value.isprintable():
                        raise RenderError(
                            f"X12 {seg.tag}{position:02d} value {value!r} is not printable ASCII")


def check_charset(tree: Interchange, profile: RenderProfile) -> None:
    """UNOA/UNOB are ASCII subsets: refuse, with the value, what their repertoire lacks (the
    byte encoding alone would let lower case through UNOA)."""
    if tree.standard != "edifact":
        return
    charset = profile.charset or "UNOC"
    pattern = {"UNOA": _UNOA, "UNOB": _UNOB}.get(charset)
    if pattern is None:
        return
    for seg in _segments(tree):
        for element in seg.elements:
            for rep in element:
                for value in rep:
                    if not pattern.fullmatch(value):
                        bad = next(c for c in value if not pattern.fullmatch(c))
                        raise RenderError(
                            f"{seg.tag} value {value!r}: character {bad!r} is not in the "
                            f"{charset} character set")
