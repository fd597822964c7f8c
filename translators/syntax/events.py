"""A pull stream of syntax events (StAEDI style), validation faults in the same stream.

    for event in events(stream_or_bytes):
        event.kind   start_interchange | end_interchange | start_group | end_group |
                     start_message | end_message | start_segment | element | end_segment | error
        event.segment, event.element (1-based), event.value (repetitions -> components),
        event.error, and the enclosing interchange / group / message

Memory is bounded like :func:`iter_messages`: nothing is retained after it was handed out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from translators.errors import EdiError
from translators.syntax.reader import Reader
from translators.syntax.stream import CHUNK_SIZE, chunks
from translators.syntax.tree import Group, Interchange, Message, Segment


@dataclass(slots=True)
class SyntaxEvent:
    kind: str
    interchange: Interchange | None = None
    group: Group | None = None
    message: Message | None = None
    segment: Segment | None = None
    element: int = 0
    value: list[list[str]] | None = None
    error: EdiError | None = None


def events(source: BinaryIO | Iterable[bytes] | bytes,
           chunk_size: int = CHUNK_SIZE) -> Iterator[SyntaxEvent]:
    sink: list[tuple[Any, ...]] = []
    reader = Reader(keep=False, sink=sink)
    context: dict[str, Any] = {"interchange": None, "group": None, "message": None}
    for block in chunks(source, chunk_size):
        reader.feed(block)
        reader.take_completed()
        yield from _translate(sink, context)
        sink.clear()
    reader.close()
    reader.take_completed()
    yield from _translate(sink, context)


def _translate(sink: list[tuple[Any, ...]], ctx: dict[str, Any]) -> Iterator[SyntaxEvent]:
    for item in sink:
        kind = item[0]
        if kind == "segment":
            seg: Segment = item[1]
            base = dict(interchange=ctx["interchange"], group=ctx["group"],
                        message=ctx["message"], segment=seg)
            yield SyntaxEvent("start_segment", **base)
            for position, value in enumerate(seg.elements, start=1):
                yield SyntaxEvent("element", element=position, value=value, **base)
            yield SyntaxEvent("end_segment", **base)
        elif kind == "error":
            yield SyntaxEvent("error", interchange=ctx["interchange"], group=ctx["group"],
                              message=ctx["message"], error=item[1])
        else:
            scope = kind.split("_", 1)[1]  # interchange / group / message
            if kind.startswith("start_"):
                ctx[scope] = item[1]
            yield SyntaxEvent(kind, interchange=ctx["interchange"], group=ctx["group"],
                              message=ctx["message"])
            if kind.startswith("end_"):
                ctx[scope] = None
