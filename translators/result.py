"""What :func:`translators.translate` returns: per interchange, per message, every error.

The result keeps the parsed trees (``InterchangeResult.tree``, ``MessageResult.message``) so the
acknowledgment builders can answer from the same objects, without parsing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from translators.errors import EdiError
from translators.syntax.tree import Group, Interchange, Message

MessageStatus = Literal["accepted", "accepted_with_errors", "rejected", "unsupported"]
AckKind = Literal["997", "999", "TA1", "CONTRL"]


def is_error(error: EdiError) -> bool:
    return error.severity == "error"


@dataclass(slots=True)
class GroupResult:
    """One functional group (GS..GE / UNG..UNE, or the implicit EDIFACT group)."""

    tree: Group
    errors: list[EdiError] = field(default_factory=list)  # group-level faults only

    @property
    def control(self) -> str:
        return self.tree.control

    @property
    def functional_id(self) -> str:
        return self.tree.functional_id

    @property
    def version(self) -> str:
        return self.tree.version

    @property
    def app_sender(self) -> str:
        return self.tree.app_sender

    @property
    def app_receiver(self) -> str:
        return self.tree.app_receiver


@dataclass(slots=True)
class InterchangeResult:
    """One interchange with its envelope identity and its interchange-level faults."""

    tree: Interchange
    groups: list[GroupResult] = field(default_factory=list)
    errors: list[EdiError] = field(default_factory=list)  # interchange-level faults only
    # Which functional acknowledgment answers this interchange ("997", "999", "CONTRL", or ""
    # when it is itself an acknowledgment and gets none).
    ack_kind: str = ""
    # Refused as a whole by the receiving side (see refuse_interchange): its acknowledgment
    # says rejected even when the translation was lenient.
    refused: bool = False
    # (qualifier, id) our acknowledgment is sent in when the interchange named someone else
    # as its receiver (None: answer as the receiver it names).
    reply_as: tuple[str, str] | None = None

    @property
    def standard(self) -> str:
        return self.tree.standard

    @property
    def control_number(self) -> str:
        return self.tree.control

    @property
    def sender_id(self) -> str:
        return self.tree.sender_id

    @property
    def sender_qualifier(self) -> str:
        return self.tree.sender_qualifier

    @property
    def receiver_id(self) -> str:
        return self.tree.receiver_id

    @property
    def receiver_qualifier(self) -> str:
        return self.tree.receiver_qualifier

    @property
    def ta1_requested(self) -> bool:
        return self.tree.standard == "x12" and self.tree.header.get(14) == "1"

    @property
    def rejected(self) -> bool:
        return any(is_error(e) for e in self.errors)


@dataclass(slots=True)
class MappedEventLike:
    """The shape of ``translators.mapping.MappedEvent``; used for acknowledgments we read."""

    event_type: str
    version: int
    business_key: str
    data: dict[str, Any]


@dataclass(slots=True)
class MessageResult:
    message_type: str
    message_control: str
    group_control: str
    interchange_control: str
    version: str
    status: MessageStatus
    errors: list[EdiError] = field(default_factory=list)
    event: Any = None  # MappedEvent | MappedEventLike | None
    message: Message | None = None  # None for a TA1 read back from the envelope
    interchange_index: int = 0
    group_index: int = 0
    # For an inbound 997/999/CONTRL/TA1: the faults the partner reports about OUR documents
    # (an empty tuple for every other message: no list to allocate and collect per message).
    reported_errors: Sequence[EdiError] = ()

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_type": self.message_type, "message_control": self.message_control,
            "group_control": self.group_control,
            "interchange_control": self.interchange_control, "version": self.version,
            "status": self.status, "errors": [e.to_json() for e in self.errors],
        }
        if self.event is not None:
            body["event"] = {"event_type": self.event.event_type,
                             "version": self.event.version,
                             "business_key": self.event.business_key, "data": self.event.data}
        return body


@dataclass(slots=True)
class TranslationResult:
    interchanges: list[InterchangeResult] = field(default_factory=list)
    messages: list[MessageResult] = field(default_factory=list)
    # Faults that belong to no interchange (no header found, junk after the last one).
    errors: list[EdiError] = field(default_factory=list)
    lenient: bool = True

    @property
    def all_errors(self) -> list[EdiError]:
        found = list(self.errors)
        for interchange in self.interchanges:
            found.extend(interchange.errors)
            for group in interchange.groups:
                found.extend(group.errors)
        for message in self.messages:
            found.extend(message.errors)
        return found

    @property
    def ok(self) -> bool:
        """True when nothing at all went wrong (warnings included)."""
        return bool(self.interchanges) and not self.all_errors

    def error_report(self) -> dict[str, Any]:
        """The JSON error report: ``errors`` lists every fault (each names its interchange,
        group and message and its position); the nested lists repeat them per level."""
        errors = self.all_errors
        return {
            "ok": self.ok,
            "error_count": sum(1 for e in errors if is_error(e)),
            "warning_count": sum(1 for e in errors if not is_error(e)),
            "errors": sorted((e.to_json() for e in errors),
                             key=lambda e: (e.get("offset") is None, e.get("offset") or 0)),
            "interchanges": [
                {"standard": ix.standard, "control_number": ix.control_number,
                 "sender_id": ix.sender_id, "receiver_id": ix.receiver_id,
                 "errors": [e.to_json() for e in ix.errors],
                 "groups": [{"control_number": g.control, "functional_id": g.functional_id,
                             "version": g.version, "errors": [e.to_json() for e in g.errors]}
                            for g in ix.groups]}
                for ix in self.interchanges
            ],
            "messages": [
                {"message_type": m.message_type, "message_control": m.message_control,
                 "group_control": m.group_control,
                 "interchange_control": m.interchange_control, "status": m.status,
                 "errors": [e.to_json() for e in m.errors]}
                for m in self.messages
            ],
        }


@dataclass(slots=True)
class AckDocument:
    kind: AckKind
    standard: str
    data: bytes
    control_numbers: dict[str, str] = field(default_factory=dict)
    # The interchange this acknowledgment answers (its control number).
    acknowledges: str = ""


def settle_events(result: TranslationResult) -> TranslationResult:
    """One truth: the faults and warnings found while mapping each message to its event
    (``event.issues``: a payload that breaks its schema, a GTIN with a wrong check digit ...)
    join the message's errors, and a message whose event has an error is rejected with no
    event, so the acknowledgment and the JSON report say what really happened. Warnings never
    change a status. Strict translation rejects the whole interchange, as for any other fault."""
    rejected_in: set[int] = set()
    for message in result.messages:
        issues = getattr(message.event, "issues", None)
        if not issues:
            continue
        message.errors.extend(issues)
        if any(is_error(e) for e in issues):
            message.status = "rejected"
            message.event = None
            rejected_in.add(message.interchange_index)
    if not result.lenient and rejected_in:
        for message in result.messages:
            if message.interchange_index in rejected_in and message.status != "unsupported" \
                    and message.message is not None:
                message.status = "rejected"
                message.event = None
    return result


def refuse_interchange(result: TranslationResult, index: int, error: EdiError) -> None:
    """Refuse one whole interchange (a receiver that is not us, ...): the fault is recorded on
    it, every message in it is rejected with no event, and its acknowledgment (TA1 / CONTRL
    UCI) says rejected with the fault's code; X12 gets no 997/999 for a refused interchange."""
    interchange = result.interchanges[index]
    interchange.errors.append(error)
    interchange.refused = True
    if interchange.standard == "x12":
        interchange.ack_kind = ""
    for message in result.messages:
        if message.interchange_index == index and message.message is not None \
                and message.status != "unsupported":
            message.status = "rejected"
            message.event = None
