"""Segment text <-> element lists, for one set of delimiters.

Decoding is lazy (a :class:`~translators.syntax.tree.Segment` calls its codec the first time its
elements are read), so the hot parse loop only splits on the segment terminator. Segments that
hold the release character take a slow character-by-character path; the rest are plain splits.
Line breaks inside a segment are wrapping, never data: they are dropped before splitting.
"""

from __future__ import annotations

from translators.syntax.tree import Delimiters

Elements = list[list[list[str]]]


class SerializeError(ValueError):
    """A value cannot be written with these delimiters (X12 has no release character)."""


class ElementCodec:
    """Splits and joins segment text for one interchange's delimiters."""

    __slots__ = ("_specials", "_unsplittable", "component", "element", "release", "repetition",
                 "segment", "x12")

    def __init__(self, delimiters: Delimiters, standard: str) -> None:
        self.element = delimiters.element
        self.component = delimiters.component
        self.repetition = delimiters.repetition
        self.release = delimiters.release if standard == "edifact" else ""
        self.segment = delimiters.segment
        self.x12 = standard == "x12"
        self._specials = "".join(
            c for c in (self.release, self.segment, self.element, self.component,
                        self.repetition) if c)
        # Characters after which a plain split no longer tells the elements (see ``cells``).
        self._unsplittable = tuple(c for c in (self.release, self.repetition, "\n", "\r") if c)

    # -- reading -------------------------------------------------------------------------------
    def __call__(self, raw: str) -> Elements:
        if "\n" in raw or "\r" in raw:
            raw = raw.replace("\r", "").replace("\n", "")
        release = self.release
        if release and release in raw:
            return self._decode_released(raw)
        parts = raw.split(self.element)
        del parts[0]
        if self.x12 and raw.startswith("ISA"):
            # ISA is fixed-format: ISA11/ISA16 hold separators and must not be split again.
            return [[[p]] for p in parts]
        comp, rep = self.component, self.repetition
        if rep and rep in raw:
            return [[r.split(comp) for r in p.split(rep)] for p in parts]
        if comp in raw:
            return [[p.split(comp)] for p in parts]
        # Neither separator present (most X12 segments): no split per element needed.
        return [[[p]] for p in parts]

    def cells(self, raw: str) -> list[str] | None:
        """The element texts of a segment whose text splits plainly (no release or repetition
        character, no line wrapping: most segments), for readers that want a few values
        without the list-of-lists decode: ``cells[n]`` is element ``n`` and ``cells[0]`` the
        component separator (in place of the tag, which callers already have), so component
        ``k`` of element ``n`` is ``cells[n].split(cells[0])[k - 1]``. None for any other text:
        read ``__call__``'s elements then."""
        for char in self._unsplittable:
            if char in raw:
                return None
        component = self.component
        if not component or not self.element or (self.x12 and raw.startswith("ISA")):
            return None  # (ISA is fixed-format: its separators are data)
        cells = raw.split(self.element)
        cells[0] = component
        return cells

    def _decode_released(self, raw: str) -> Elements:
        el, comp, rep, rel = self.element, self.component, self.repetition, self.release
        elements: Elements = []
        reps: list[list[str]] = []
        comps: list[str] = []
        buf: list[str] = []
        in_tag = True
        i, n = 0, len(raw)
        while i < n:
            c = raw[i]
            if c == rel and i + 1 < n:
                buf.append(raw[i + 1])
                i += 2
                continue
            if c == el:
                if not in_tag:
                    comps.append("".join(buf))
                    reps.append(comps)
                    elements.append(reps)
                in_tag = False
                buf, comps, reps = [], [], []
            elif in_tag:
                pass  # tag characters are not data
            elif c == comp:
                comps.append("".join(buf))
                buf = []
            elif rep and c == rep:
                comps.append("".join(buf))
                reps.append(comps)
                buf, comps = [], []
            else:
                buf.append(c)
            i += 1
        if not in_tag:
            comps.append("".join(buf))
            reps.append(comps)
            elements.append(reps)
        return elements

    # -- writing -------------------------------------------------------------------------------
    def escape(self, value: str, where: str = "") -> str:
        specials = self._specials
        if not any(c in value for c in specials):
            return value
        if self.x12 or not self.release:
            bad = "".join(sorted({c for c in value if c in specials}))
            raise SerializeError(
                f"{where or 'value'} {value!r} contains the delimiter {bad!r} and "
                f"{'X12' if self.x12 else 'this interchange'} has no release character")
        rel = self.release
        return "".join(rel + c if c in specials else c for c in value)

    def encode(self, tag: str, elements: Elements) -> str:
        """Segment text (no terminator) from elements, escaping where the standard allows."""
        if self.x12 and tag == "ISA":
            return self.element.join([tag] + [e[0][0] if e and e[0] else "" for e in elements])
        comp, rep, esc = self.component, self.repetition, self.escape
        out = [tag]
        for index, element in enumerate(elements, start=1):
            if len(element) > 1 and not rep:
                raise SerializeError(
                    f"{tag}{index:02d} has {len(element)} repetitions but these delimiters "
                    f"have no repetition separator")
            where = f"{tag}{index:02d}"
            out.append(rep.join(comp.join(esc(c, where) for c in r) for r in element)
                       if element else "")
        return self.element.join(out)
