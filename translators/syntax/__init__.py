"""EDIFACT and X12 syntax layer: bytes <-> lossless interchange tree.

    parse(data)            lenient: never raises on bad input; faults are located EdiErrors
    parse_strict(data)     raises EdiSyntaxError on the first error
    iter_messages(source)  streaming, one message at a time (memory bounded by the message)
    events(source)         pull stream of start/end/segment/element/error events
    serialize(tree)        tree -> bytes (byte-exact for parsed trees)
    build_interchange / finalize   envelopes, counts and control numbers for code-built trees
    to_json / from_json    JSON form of the tree that round-trips
"""

from __future__ import annotations

from translators.errors import EdiSyntaxError
from translators.syntax.codec import SerializeError
from translators.syntax.reader import ParseResult, Reader
from translators.syntax.serialize import build_interchange, finalize, serialize
from translators.syntax.tree import (
    Delimiters,
    Detection,
    Group,
    Interchange,
    Message,
    Segment,
)

__all__ = [
    "Delimiters", "Detection", "EdiSyntaxError", "Group", "Interchange", "Message",
    "ParseResult", "Segment", "SerializeError", "build_interchange", "events", "finalize",
    "from_json", "iter_messages", "parse", "parse_strict", "serialize", "to_json",
]


def parse(data: bytes) -> ParseResult:
    """Every interchange in ``data`` as a tree, plus every fault found (never raises)."""
    reader = Reader()
    reader.feed(bytes(data), final=True)  # (feed() keeps the cyclic collector out of it)
    return reader.result


def parse_strict(data: bytes) -> ParseResult:
    """Like :func:`parse`, but the first error (not warning) raises :class:`EdiSyntaxError`."""
    result = parse(data)
    for error in result.errors:
        if error.severity == "error":
            raise EdiSyntaxError(error)
    return result


from translators.syntax.events import SyntaxEvent, events  # noqa: E402
from translators.syntax.jsonform import from_json, to_json  # noqa: E402
from translators.syntax.stream import StreamedMessage, iter_messages  # noqa: E402

__all__ += ["StreamedMessage", "SyntaxEvent"]
