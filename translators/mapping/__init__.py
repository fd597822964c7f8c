"""Mapping of validated EDI messages to canonical event payloads.

The façade calls :func:`to_event` for each message; which payload a message becomes is decided by
the data files in ``maps/<standard>/<TYPE>.json`` (adding a message type means adding a file).

The event is checked against its JSON Schema right here, so the translation result (and with
it the acknowledgment we send and the JSON error report) says what really happened: a message
whose event breaks its contract carries an ``event.invalid`` error and no event. Data-quality
findings (a GTIN/GLN with a wrong check digit, a line without any item identifier, a date format
code we cannot read) travel as warnings in the same error model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from schemas import default_registry
from schemas.keys import KeyFunction
from translators.errors import EdiError
from translators.mapping.engine import (
    Note,
    available_maps,
    extract,
    extract_noted,
    gs1_ok,
    load_map,
)
from translators.mapping.keys import key_function
from translators.mapping.values import MappingError
from translators.syntax.tree import Group, Interchange, Message

__all__ = ["MappedEvent", "MappingError", "available_maps", "map_message", "to_event"]

# Party id qualifiers (as the payload carries them: EDIFACT 3055) that mean a GS1 GLN.
GLN_QUALIFIERS = frozenset({"9", "UL", "GLN"})
MAX_ISSUES = 200  # findings kept per message (a hostile file cannot grow the report unbounded)
MAX_SCHEMA_ERRORS = 10  # schema faults listed per message (the first ones say why)


@dataclass(slots=True)
class MappedEvent:
    event_type: str
    version: int
    business_key: str
    data: dict[str, Any]
    # Faults and warnings found while mapping (see translators.result.settle_events); an error
    # means the event must not be used.
    issues: list[EdiError] = field(default_factory=list)


def map_message(message: Message, standard: str) -> tuple[str, int, dict[str, Any]] | None:
    """(event_type, schema version, payload) for one message, or None when no map exists."""
    spec = load_map(standard, message.type)
    if spec is None:
        return None
    return spec["event_type"], int(spec["version"]), extract(spec, message)


def to_event(message: Message, *, interchange: Interchange, group: Group) -> MappedEvent | None:
    """Map one message; None when we have no mapping for its type.

    Raises :class:`MappingError` when a value cannot be normalised (an impossible date, a
    non-numeric quantity) — the message is then rejected, never half-mapped. A payload that
    breaks its schema comes back with an ``event.invalid`` error in ``issues``."""
    target = _target(interchange.standard, message.type)
    if target is None:
        return None
    spec, event_type, version, key = target
    data, notes = extract_noted(spec, message)
    _check_parties(data, notes)
    where = (interchange.standard, interchange.control, group.control, message.control,
             message.type) if notes else None
    issues = [_issue(n, where) for n in notes[:MAX_ISSUES]]
    problems = default_registry().validate(event_type, version, data)
    for problem in problems[:MAX_SCHEMA_ERRORS]:
        issues.append(_located(EdiError(
            kind="event.invalid", level="message",
            message=f"the {event_type} v{version} event breaks its schema at "
                    f"{problem.get('pointer') or '/'}: {problem.get('message', '')}",
            extra={"pointer": problem.get("pointer", ""),
                   "keyword": problem.get("keyword", "")}),
            (interchange.standard, interchange.control, group.control, message.control,
             message.type)))
    return MappedEvent(event_type, version, key(data), data, issues)


def _check_parties(data: dict[str, Any], notes: list[Note]) -> None:
    """A GS1-qualified party id must be a GLN with a right check digit: a warning otherwise
    (the id is kept as sent)."""
    for party in data.get("parties") or ():
        if not isinstance(party, dict):
            continue
        ident = party.get("id")
        if party.get("id_qualifier") in GLN_QUALIFIERS and isinstance(ident, str) \
                and not (len(ident) == 13 and gs1_ok(ident)):
            notes.append(Note("data.check_digit",
                              f"party {party.get('role', '?')} id {ident!r} is qualified as a "
                              "GLN but is not a 13-digit GLN with a right check digit "
                              "(kept as sent)"))


# (standard, interchange control, group control, message control, message type): read once
# per message, not per finding (the control numbers are read from the envelope segments)
Where = tuple[str, str, str, str, str]


def _located(error: EdiError, where: Where) -> EdiError:
    (error.standard, error.interchange_control, error.group_control, error.message_control,
     error.message_type) = where
    return error


def _issue(found: Note, where: Where | None) -> EdiError:
    assert where is not None
    segment = found.segment
    error = EdiError(kind=found.kind, message=found.message,
                     level="segment" if segment is not None else "message",
                     severity="warning")
    if segment is not None:
        error.segment_position = segment.position or None
        error.segment_tag = segment.tag
    return _located(error, where)


@lru_cache(maxsize=1024)  # (bounded: the type comes from the input)
def _target(standard: str, message_type: str) -> tuple[dict[str, Any], str, int, KeyFunction] \
        | None:
    """The map of a message type with what each mapped message needs of it (asked per message:
    looked up once)."""
    spec = load_map(standard, message_type)
    if spec is None:
        return None
    event_type = spec["event_type"]
    return spec, event_type, int(spec["version"]), key_function(event_type)
