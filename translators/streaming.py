"""Message-at-a-time translation: parse, validate, map and settle one message at a time.

    stream = iter_translate(open(path, "rb"))      # or bytes, or an iterable of chunks
    for item in stream:     # a MessageResult: status, errors, event and its message tree
        ...
    stream.result           # the TranslationResult: every interchange and every message's
                            # outcome (without trees and events), every fault placed

Memory is bounded by the largest message plus a small record per message, not by the input:
the reader keeps no finished message, and what the result keeps of each one is its status and
its faults. Every item is what :func:`translators.translate` gives for that message (same
status, errors and event), except that a fault the parser can only report later than the
message itself (a character-set fault in a later window) joins the message's errors after the
item was handed out. Interchange and group faults, acknowledgment kinds and TA1s are in
``stream.result`` once the stream is exhausted.

Strict translation (``lenient=False``) rejects a whole interchange for any fault, which is
known only at its end: the items are then held back until the input ends.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from typing import BinaryIO

from translators.acks.read import read_ta1, reported_errors
from translators.errors import EdiError
from translators.overlays import Overlay
from translators.result import (
    GroupResult,
    InterchangeResult,
    MessageResult,
    TranslationResult,
    is_error,
)
from translators.syntax.reader import Reader
from translators.syntax.stream import CHUNK_SIZE, chunks
from translators.syntax.tree import Group, Interchange, Message
from translators.validation.pipeline import (
    _ack_kind,
    _group_of,
    _interchange_of,
    _mapper,
    _message_result,
    owner_of,
)

Span = tuple[int, int, MessageResult]  # (first segment offset, last segment offset, outcome)


class TranslationStream(Iterator[MessageResult]):
    """Iterator over the settled :class:`MessageResult` of each message, in input order."""

    def __init__(self, source: BinaryIO | Iterable[bytes] | bytes,
                 overlays: tuple[Overlay, ...] = (), lenient: bool = True,
                 x12_ack: str | None = None, chunk_size: int = CHUNK_SIZE) -> None:
        self.result = TranslationResult(lenient=lenient)
        self._overlays = overlays
        self._x12_ack = x12_ack
        self._reader = Reader(keep=False, mark_ends=True)
        self._mapper = _mapper()
        # id(interchange tree) -> its index; the trees are kept alive by the result
        self._index: dict[int, int] = {}
        self._spans: list[list[Span]] = []  # per interchange: where each message lies
        self._pending: list[EdiError] = []  # faults placed when the input ends
        # Faults after the last finished message: they may belong to the next one.
        self._carry: list[EdiError] = []
        self._done_at = -1  # offset of the last segment of the last finished message
        self._seen = 0  # syntax faults looked at so far
        self._seen_ids: set[int] = set()
        self._held: list[MessageResult] = []  # strict: every item, until the end
        self._ta1s: set[int] = set()  # (kept alive by the result)
        self._lights: list[MessageResult] = []  # strict: the outcome kept of each held item
        self._items = self._run(source, chunk_size)

    def __next__(self) -> MessageResult:
        return next(self._items)

    # -- the loop ------------------------------------------------------------------------------
    def _run(self, source: BinaryIO | Iterable[bytes] | bytes,
             size: int) -> Iterator[MessageResult]:
        reader = self._reader
        for block in chunks(source, size):
            reader.feed(block)
            yield from self._drain()
        reader.close()
        yield from self._drain()
        self._pending.extend(self._carry)
        self._carry = []
        self._finish()
        held, self._held = self._held, []
        yield from held

    def _new_faults(self) -> list[EdiError]:
        errors = self._reader.result.errors
        if len(errors) == self._seen:
            return []
        new = errors[self._seen:]
        if any(id(e) in self._seen_ids for e in new):
            # (a fault was inserted before the ones seen — the reader settles a character-set
            # fault late — and shifted them: look at the whole list, which is capped)
            new = [e for e in errors if id(e) not in self._seen_ids]
        self._seen = len(errors)
        self._seen_ids.update(id(e) for e in new)
        return new

    def _drain(self) -> Generator[MessageResult, None, None]:
        items = self._reader.take_completed()
        faults = self._new_faults()
        if self._carry:
            faults = [*self._carry, *faults]
            self._carry = []
        placed: dict[int, list[EdiError]] = {}
        if faults:
            self._place_on_messages(faults, items, placed)
        lenient = self.result.lenient
        to_event, mapping_error = self._mapper
        for message, group, interchange in items:
            if message is None:
                yield from self._closed(interchange)
                continue
            index = self._interchange(interchange)
            group_index = _position(interchange.groups, group)
            item = _message_result(
                message, interchange, group, index, group_index, placed.get(id(message), ()),
                self._overlays, to_event, mapping_error, interchange.control, group.control)
            if lenient:
                _settle(item)
            light = MessageResult(item.message_type, item.message_control, item.group_control,
                                  item.interchange_control, item.version, item.status,
                                  item.errors, None, None, index, group_index,
                                  item.reported_errors)
            self.result.messages.append(light)
            segments = message.segments
            if segments:
                self._spans[index].append((segments[0].offset, segments[-1].offset, light))
            if lenient:
                yield item
            else:
                self._held.append(item)
                self._lights.append(light)

    def _place_on_messages(self, faults: list[EdiError],
                           items: list[tuple[Message | None, Group | None, Interchange]],
                           placed: dict[int, list[EdiError]]) -> None:
        """A fault inside a message of this batch goes with it (as the whole-input pipeline
        places it); every other one waits for the end of the input."""
        spans = [(m.segments[0].offset, m.segments[-1].offset, m) for m, _, _ in items
                 if m is not None and m.segments]
        if spans:
            self._done_at = max(self._done_at, spans[-1][1])
        for fault in faults:
            target = None
            if fault.level != "interchange":
                if fault.offset is not None:
                    for first, last, message in spans:
                        if first <= fault.offset <= last:
                            target = message
                            break
                elif fault.message_control:
                    for _, _, message in spans:
                        if message.control == fault.message_control and (
                                not fault.message_type or message.type == fault.message_type):
                            target = message
                            break
            if target is None:
                if fault.offset is not None and fault.offset > self._done_at \
                        and fault.level != "interchange":
                    self._carry.append(fault)  # may lie in a message not finished yet
                else:
                    self._pending.append(fault)
            else:
                placed.setdefault(id(target), []).append(fault)

    def _interchange(self, interchange: Interchange) -> int:
        index = self._index.get(id(interchange))
        if index is None:
            index = self._index[id(interchange)] = len(self.result.interchanges)
            self.result.interchanges.append(InterchangeResult(tree=interchange))
            self._spans.append([])
        return index

    def _closed(self, interchange: Interchange) -> Iterator[MessageResult]:
        """An interchange ended: its groups, the acknowledgment it gets, the TA1s it holds."""
        index = self._interchange(interchange)
        ir = self.result.interchanges[index]
        ir.groups = [GroupResult(g) for g in interchange.groups]
        lights = [span[2] for span in self._spans[index]]
        ir.ack_kind = _ack_kind(interchange.standard, lights, interchange, self._x12_ack)
        for segment in interchange.extras:
            if segment.tag == "TA1":
                ta1 = read_ta1(segment, interchange, index)
                ta1.reported_errors = reported_errors(ta1.event, interchange.standard)
                self._ta1s.add(id(ta1))
                self.result.messages.append(ta1)
                if self.result.lenient:
                    yield ta1
                else:
                    self._held.append(ta1)

    # -- the end of the input ------------------------------------------------------------------
    def _finish(self) -> None:
        result = self.result
        for fault in self._pending:
            self._place(fault)
        self._pending = []
        if result.lenient:
            return
        # As translators.translate does it: any fault rejects the interchange; then the
        # events are settled, and an event's error rejects its interchange too.
        for step in (self._strict_rejected, self._settled):
            rejected = step()
            for item, light in zip(self._held_messages(), self._lights, strict=True):
                if item.interchange_index in rejected and item.status != "unsupported":
                    item.status = light.status = "rejected"
                    item.event = None

    def _held_messages(self) -> list[MessageResult]:
        return [item for item in self._held if id(item) not in self._ta1s]

    def _strict_rejected(self) -> set[int]:
        result = self.result
        return {index for index, ir in enumerate(result.interchanges)
                if ir.rejected or any(g.errors and any(map(is_error, g.errors))
                                      for g in ir.groups)
                or any(span[2].status == "rejected" for span in self._spans[index])}

    def _settled(self) -> set[int]:
        rejected: set[int] = set()
        for item, light in zip(self._held_messages(), self._lights, strict=True):
            if item.event is not None:
                _settle(item)
                light.status = item.status
                if item.status == "rejected":
                    rejected.add(item.interchange_index)
        return rejected

    def _place(self, fault: EdiError) -> None:
        result = self.result
        starts = [ir.tree.header.offset for ir in result.interchanges]
        index = _interchange_of(fault, result, starts)
        if index is None:
            result.errors.append(fault)
            return
        ir = result.interchanges[index]
        if fault.level == "interchange":
            ir.errors.append(fault)
            return
        light = _light_of(fault, self._spans[index])
        if light is not None:
            light.errors.append(fault)  # (the item handed out shares this list)
            if is_error(fault) and light.status in ("accepted", "accepted_with_errors"):
                light.status = "rejected"
            elif light.status == "accepted":
                light.status = "accepted_with_errors"
            return
        group = _group_of(fault, ir)
        if group is not None:
            group.errors.append(fault)
        else:
            ir.errors.append(fault)


def _position(groups: list[Group], group: Group) -> int:
    for index in range(len(groups) - 1, -1, -1):  # (the open group is the last one)
        if groups[index] is group:
            return index
    return 0


def _light_of(fault: EdiError, spans: list[Span]) -> MessageResult | None:
    return owner_of(fault, spans, lambda light: (light.message_control, light.message_type))


def _settle(item: MessageResult) -> None:
    """translators.result.settle_events for one message (the lenient part: the strict one
    needs the whole interchange)."""
    issues = getattr(item.event, "issues", None)
    if issues:
        item.errors.extend(issues)
        if any(is_error(e) for e in issues):
            item.status = "rejected"
            item.event = None


def iter_translate(source: BinaryIO | Iterable[bytes] | bytes,
                   overlays: tuple[Overlay, ...] = (), lenient: bool = True,
                   x12_ack: str | None = None,
                   chunk_size: int = CHUNK_SIZE) -> TranslationStream:
    return TranslationStream(source, overlays, lenient, x12_ack, chunk_size)
