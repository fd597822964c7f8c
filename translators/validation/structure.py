"""Segment order, loops / segment groups, requirements and repeat counts of one message.

A single forward pass with a stack of open loop instances, the way the standards read a
message: a segment belongs to the innermost open loop that still expects it at or after the
current place; otherwise the loops close outwards until one does. A segment nobody expects
is reported (unknown, not in this message, or out of sequence) and skipped, so one bad
segment does not cascade into errors for everything after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from translators.grammar.model import Grammar, LoopNode, SegmentNode
from translators.syntax.tree import Segment
from translators.validation.segment import Issue

TRAILERS = ("SE", "UNT")


class _LoopIndex:
    """Per loop: child positions by trigger tag, and the mandatory children, so placing a
    segment costs a dictionary lookup instead of a scan of the loop's children."""

    __slots__ = ("by_tag", "loop", "mandatory")

    def __init__(self, loop: LoopNode) -> None:
        self.loop = loop
        by_tag: dict[str, list[int]] = {}
        for index, child in enumerate(loop.children):
            by_tag.setdefault(child.trigger, []).append(index)
        self.by_tag = {tag: tuple(indexes) for tag, indexes in by_tag.items()}
        self.mandatory = tuple(i for i, c in enumerate(loop.children) if c.req == "M")


_indexes: dict[int, _LoopIndex] = {}


def _index_of(loop: LoopNode) -> _LoopIndex:
    index = _indexes.get(id(loop))
    if index is None or index.loop is not loop:
        index = _indexes[id(loop)] = _LoopIndex(loop)
    return index


@dataclass(slots=True)
class _Frame:
    loop: LoopNode
    index: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    lookup: _LoopIndex | None = None

    def __post_init__(self) -> None:
        self.lookup = _index_of(self.loop)


class StructureWalker:
    def __init__(self, grammar: Grammar) -> None:
        self.grammar = grammar
        self.stack: list[_Frame] = [_Frame(grammar.root)]
        # (segment, issue) pairs; a missing segment is reported at the segment where the
        # absence was noticed.
        self.issues: list[tuple[Segment, Issue]] = []
        self.current_loop = ""

    def feed(self, segment: Segment) -> bool:
        """Place one segment; False when it fits nowhere (it is then reported and skipped).
        ``current_loop`` then names the loop it landed in (for AK303 / IK303)."""
        tag = segment.tag
        stack = self.stack
        depth = len(stack) - 1
        while depth >= 0:
            frame = stack[depth]
            # Inside a loop instance its first segment never repeats: seeing it again starts
            # the next instance, one level up.
            start = frame.index if (frame.index or not depth) else 1
            found = -1
            for index in frame.lookup.by_tag.get(tag, ()):  # type: ignore[union-attr]
                if index >= start:
                    found = index
                    break
            if found < 0:
                depth -= 1
                continue
            if depth + 1 < len(stack):
                for closing in stack[depth + 1:]:
                    self._close(closing, segment)
                del stack[depth + 1:]
            if found != frame.index:
                self._skip_to(frame, found, segment)
            child = frame.loop.children[found]
            count = frame.counts.get(found, 0) + 1
            frame.counts[found] = count
            if child.req == "N":
                self.issues.append((segment, Issue(
                    "segment.not_used", f"{tag} must not be sent (partner guide: not used)")))
            if isinstance(child, SegmentNode):
                if count > child.max:
                    self.issues.append((segment, Issue(
                        "segment.too_many",
                        f"{tag} occurs {count} times here, at most {child.max} allowed")))
                self.current_loop = frame.loop.name if depth else ""
            else:
                if count > child.max:
                    self.issues.append((segment, Issue(
                        "loop.too_many",
                        f"loop {child.name} occurs {count} times, at most {child.max} "
                        "allowed")))
                stack.append(_Frame(child, 0, {0: 1}))
                self.current_loop = child.name
            return True
        self._misplaced(segment)
        return False

    def finish(self, last: Segment, has_trailer: bool) -> None:
        """Close every open loop at the end of the message."""
        for frame in reversed(self.stack):
            self._close(frame, last, skip_trailers=not has_trailer)

    def _skip_to(self, frame: _Frame, target: int, at: Segment) -> None:
        assert frame.lookup is not None
        children = frame.loop.children
        for index in frame.lookup.mandatory:
            if frame.index <= index < target:
                self._require(children[index], frame.counts.get(index, 0), at)
        frame.index = target

    def _close(self, frame: _Frame, at: Segment, skip_trailers: bool = False) -> None:
        assert frame.lookup is not None
        children = frame.loop.children
        for index in frame.lookup.mandatory:
            if index < frame.index:
                continue
            child = children[index]
            if skip_trailers and child.trigger in TRAILERS:
                continue
            self._require(child, frame.counts.get(index, 0), at)
        frame.index = len(children)

    def _require(self, child: SegmentNode | LoopNode, count: int, at: Segment) -> None:
        if child.req == "M" and count == 0:
            what = f"loop {child.name} (starting with {child.trigger})" \
                if isinstance(child, LoopNode) else f"segment {child.tag}"
            self.issues.append((at, Issue("segment.missing", f"mandatory {what} is missing",
                                          bad_value=child.trigger)))

    def _misplaced(self, segment: Segment) -> None:
        tag = segment.tag
        grammar = self.grammar
        if tag in grammar.segments:
            issue = Issue("segment.out_of_order",
                          f"{tag} is not expected at this point of the {grammar.message}")
        elif tag in grammar.dictionary:
            issue = Issue("segment.not_in_message",
                          f"{tag} is not a segment of the {grammar.message} message")
        else:
            issue = Issue("segment.unrecognized", f"{tag} is not a known segment")
        self.issues.append((segment, issue))
