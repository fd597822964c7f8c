"""Streaming: one message at a time, memory bounded by the largest message, not the input.

    stream = iter_messages(open(path, "rb"))
    for item in stream:
        item.message, item.group, item.interchange, item.errors
    stream.errors      # every fault, including interchange trailer checks after the last message
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from translators.errors import EdiError
from translators.syntax.reader import Reader
from translators.syntax.tree import Delimiters, Group, Interchange, Message

CHUNK_SIZE = 1 << 20


@dataclass(slots=True)
class StreamedMessage:
    """A finished message with its context. ``interchange`` carries the header, delimiters and
    detection; its groups do not retain earlier messages. ``errors`` are the faults found since
    the previous item (those of this message among them)."""

    message: Message
    group: Group
    interchange: Interchange
    errors: list[EdiError] = field(default_factory=list)

    @property
    def delimiters(self) -> Delimiters:
        return self.interchange.delimiters


def chunks(source: BinaryIO | Iterable[bytes] | bytes, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        for at in range(0, len(data), size):
            yield data[at:at + size]
        return
    read = getattr(source, "read", None)
    if read is not None:
        while True:
            block = read(size)
            if not block:
                return
            yield block
    else:
        yield from source  # type: ignore[misc]


class MessageStream(Iterator[StreamedMessage]):
    """Iterator over :class:`StreamedMessage`; ``errors`` and ``trailing`` fill as it runs."""

    def __init__(self, source: BinaryIO | Iterable[bytes] | bytes,
                 chunk_size: int = CHUNK_SIZE) -> None:
        self._reader = Reader(keep=False)
        self._items = self._run(source, chunk_size)

    @property
    def errors(self) -> list[EdiError]:
        return self._reader.result.errors

    @property
    def trailing(self) -> bytes:
        return self._reader.result.trailing

    def __next__(self) -> StreamedMessage:
        return next(self._items)

    def _run(self, source: BinaryIO | Iterable[bytes] | bytes,
             size: int) -> Iterator[StreamedMessage]:
        reader = self._reader
        reported = 0
        for block in chunks(source, size):
            reader.feed(block)
            reported = yield from self._drain(reported)
        reader.close()
        yield from self._drain(reported)

    def _drain(self, reported: int) -> Generator[StreamedMessage, None, int]:
        errors = self._reader.result.errors
        for message, group, interchange in self._reader.take_completed():
            new = errors[reported:]
            reported = len(errors)
            yield StreamedMessage(message, group, interchange, new)
        return reported


def iter_messages(source: BinaryIO | Iterable[bytes] | bytes,
                  chunk_size: int = CHUNK_SIZE) -> MessageStream:
    return MessageStream(source, chunk_size)
