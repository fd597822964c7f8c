"""parse -> place every fault -> validate each message -> map accepted ones (the façade's work).

Syntax faults come from the parser as one flat list; each is placed on the message, group or
interchange it belongs to (by byte offset, so two interchanges or messages that share a control
number are never confused), then every message is validated against its grammar (with the
partner's overlays) and, if accepted, mapped to its event.
"""

from __future__ import annotations

import bisect
import gc
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from translators.acks.read import read_ta1, reported_errors
from translators.errors import EdiError
from translators.grammar import select_grammar
from translators.overlays import Overlay, apply_overlays
from translators.result import (
    GroupResult,
    InterchangeResult,
    MessageResult,
    TranslationResult,
    is_error,
)
from translators.syntax import parse
from translators.syntax.tree import Group, Interchange, Message
from translators.validation import validate_message

T = TypeVar("T")

# Inbound acknowledgments are read back, never acknowledged themselves.
ACK_MESSAGES = {"x12": ("997", "999"), "edifact": ("CONTRL",)}

Mapper = Callable[..., Any]


def _mapper() -> tuple[Mapper | None, tuple[type[Exception], ...]]:
    """The mapper, and what a failed mapping raises: MappingError for a value it cannot
    read, and (hostile input that validated: a grammar with long limits, an overlay) any
    ValueError or ArithmeticError from a conversion, which is the message's fault too."""
    try:
        from translators.mapping import MappingError, to_event
    except ImportError:  # the mapping package is optional for validation-only use
        return None, (ValueError,)
    return to_event, (MappingError, ValueError, ArithmeticError)


def x12_ack_kind(version: str) -> str:
    """997 for 004010 and older, 999 from 005010 on (GS08 decides)."""
    return "999" if version[:6] >= "005010" else "997"


def translate(data: bytes, overlays: tuple[Overlay, ...] = (), lenient: bool = True,
              x12_ack: str | None = None) -> TranslationResult:
    # Like parse(): the work below builds millions of small acyclic objects (decoded elements,
    # payload dicts) next to the tree, and the cyclic collector would rescan all of them again
    # and again (measured: 40-60% of translation time) for nothing to free.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _translate(data, overlays, lenient, x12_ack)
    finally:
        if enabled:
            gc.enable()


def _translate(data: bytes, overlays: tuple[Overlay, ...], lenient: bool,
               x12_ack: str | None) -> TranslationResult:
    parsed = parse(data)
    result = TranslationResult(lenient=lenient)
    messages_of: list[list[tuple[int, Message]]] = []
    for interchange in parsed.interchanges:
        result.interchanges.append(InterchangeResult(
            tree=interchange, groups=[GroupResult(g) for g in interchange.groups]))
        messages_of.append([(gi, m) for gi, g in enumerate(interchange.groups)
                            for m in g.messages])
    placed: dict[int, list[EdiError]] = {}  # id(message) -> its syntax faults
    _place_errors(parsed.errors, result, messages_of, placed)

    to_event, mapping_error = _mapper()
    for index, ir in enumerate(result.interchanges):
        interchange = ir.tree
        standard = interchange.standard
        batch: list[MessageResult] = []
        # (the control numbers are read from the envelope segments: once per group)
        interchange_control = interchange.control
        group_controls: dict[int, str] = {}
        for group_index, message in messages_of[index]:
            group = interchange.groups[group_index]
            group_control = group_controls.get(group_index)
            if group_control is None:
                group_control = group_controls[group_index] = group.control
            batch.append(_message_result(
                message, interchange, group, index, group_index, placed.get(id(message), ()),
                overlays, to_event, mapping_error, interchange_control, group_control))
        if not lenient and (ir.rejected or any(g.errors and any(map(is_error, g.errors))
                                              for g in ir.groups)
                            or any(m.status == "rejected" for m in batch)):
            for item in batch:  # strict: one fault rejects the whole interchange
                if item.status != "unsupported":
                    item.status = "rejected"
                    item.event = None
        result.messages.extend(batch)
        ir.ack_kind = _ack_kind(standard, batch, interchange, x12_ack)
        for segment in interchange.extras:
            if segment.tag == "TA1":
                ta1 = read_ta1(segment, interchange, index)
                ta1.reported_errors = reported_errors(ta1.event, standard)
                result.messages.append(ta1)
    return result


def _ack_kind(standard: str, batch: list[MessageResult], interchange: Interchange,
              override: str | None) -> str:
    if batch and all(m.message_type in ACK_MESSAGES.get(standard, ()) for m in batch):
        return ""
    if standard == "edifact":
        return "CONTRL"
    if override:
        return override
    version = interchange.groups[0].version if interchange.groups else ""
    return x12_ack_kind(version or "004010")


def _message_result(message: Message, interchange: Interchange, group: Group, index: int,
                    group_index: int, syntax_errors: Sequence[EdiError],
                    overlays: tuple[Overlay, ...], to_event: Mapper | None,
                    mapping_error: tuple[type[Exception], ...], interchange_control: str,
                    group_control: str) -> MessageResult:
    standard = interchange.standard
    errors = list(syntax_errors)
    # (positional: one per message, and keywords cost as much as the rest of the call)
    item = MessageResult(message.type, message.control, group_control, interchange_control,
                         message.version, "accepted", errors, None, message, index, group_index)
    choice = select_grammar(standard, message.type, message.version)
    if choice is None:
        item.status = "unsupported"
        errors.append(EdiError(
            kind="message.unsupported", severity="warning", level="message",
            standard=standard, message=f"no grammar for {message.type} version "
                                       f"{message.version or '?'}: parsed, not validated",
            interchange_control=interchange_control, group_control=group_control,
            message_control=message.control, message_type=message.type,
            segment_position=1, segment_tag=message.header.tag))
        return item
    grammar = choice.grammar
    if overlays:
        grammar = apply_overlays(grammar, overlays)
    errors.extend(validate_message(message, grammar, standard=standard,
                                   interchange_control=interchange_control,
                                   group_control=group_control,
                                   delimiters=interchange.delimiters))
    notes = 0
    if choice.substituted:  # (says which grammar judged it; does not change the status)
        notes = 1
        errors.append(EdiError(
            kind="message.version_substituted", severity="warning", level="message",
            standard=standard, message=choice.note, interchange_control=interchange_control,
            group_control=group_control, message_control=message.control,
            message_type=message.type, segment_position=1, segment_tag=message.header.tag,
            extra={"declared_version": message.version, "grammar_version": choice.directory}))
    if errors and any(is_error(e) for e in errors):  # (most messages have none)
        item.status = "rejected"
        return item
    if len(errors) > notes:
        item.status = "accepted_with_errors"
    if message.type in ACK_MESSAGES.get(standard, ()):
        from translators.acks.read import read_ack, reported_errors
        item.event = read_ack(message, interchange, group)
        item.reported_errors = reported_errors(item.event, standard)
        return item
    if to_event is not None:
        try:
            item.event = to_event(message, interchange=interchange, group=group)
        except mapping_error as exc:
            errors.append(EdiError(
                kind="mapping.invalid_value", level="message", standard=standard,
                message=str(exc), interchange_control=interchange_control,
                group_control=group_control, message_control=message.control,
                message_type=message.type))
            item.status = "rejected"
    return item


def _place_errors(errors: list[EdiError], result: TranslationResult,
                  messages_of: list[list[tuple[int, Message]]],
                  placed: dict[int, list[EdiError]]) -> None:
    if not errors:
        return
    starts = [ir.tree.header.offset for ir in result.interchanges]
    spans: dict[int, list[tuple[int, int, Message]]] = {}
    for error in errors:
        index = _interchange_of(error, result, starts)
        if index is None:
            result.errors.append(error)
            continue
        ir = result.interchanges[index]
        if error.level == "interchange":
            ir.errors.append(error)
            continue
        if index not in spans:
            spans[index] = [(m.segments[0].offset, m.segments[-1].offset, m)
                            for _, m in messages_of[index] if m.segments]
        message = _message_of(error, spans[index])
        if message is not None:
            placed.setdefault(id(message), []).append(error)
            continue
        group = _group_of(error, ir)
        if group is not None:
            group.errors.append(error)
        else:
            ir.errors.append(error)


def _interchange_of(error: EdiError, result: TranslationResult,
                    starts: list[int]) -> int | None:
    if not result.interchanges:
        return None
    if error.offset is not None:
        position = bisect.bisect_right(starts, error.offset) - 1
        return max(position, 0)
    for index, ir in enumerate(result.interchanges):
        if error.interchange_control and ir.control_number == error.interchange_control:
            return index
    return len(result.interchanges) - 1


def _message_of(error: EdiError,
                spans: list[tuple[int, int, Message]]) -> Message | None:
    return owner_of(error, spans, lambda message: (message.control, message.type))


def owner_of(error: EdiError, spans: Sequence[tuple[int, int, T]],
             identity: Callable[[T], tuple[str, str]]) -> T | None:
    """The message an error belongs to: the one whose segments span its byte offset, else the
    one with its control number (and type, when the error names one). ``spans`` are (first
    offset, last offset, message); ``identity`` gives a message's (control, type)."""
    if error.offset is not None:
        for first, last, item in spans:
            if first <= error.offset <= last:
                return item
    if error.message_control:
        for _, _, item in spans:
            control, kind = identity(item)
            if control == error.message_control and (
                    not error.message_type or kind == error.message_type):
                return item
    return None


def _group_of(error: EdiError, ir: InterchangeResult) -> GroupResult | None:
    if error.level != "group" and not error.group_control:
        return None
    if error.offset is not None:
        for group in ir.groups:
            header, trailer = group.tree.header, group.tree.trailer
            if header is not None and header.offset <= error.offset and (
                    trailer is None or error.offset <= trailer.offset):
                return group
    for group in ir.groups:
        if group.control == error.group_control:
            return group
    return ir.groups[0] if ir.groups and error.level == "group" else None
