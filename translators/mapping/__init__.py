"""Mapping of validated EDI messages to canonical event payloads.

The façade calls :func:`to_event` for each message; which payload a message becomes is decided by
the data files in ``maps/<standard>/<TYPE>.json`` (adding a message type means adding a file).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from schemas.keys import KeyFunction
from translators.mapping.engine import available_maps, extract, load_map
from translators.mapping.keys import key_function
from translators.mapping.values import MappingError
from translators.syntax.tree import Group, Interchange, Message

__all__ = ["MappedEvent", "MappingError", "available_maps", "map_message", "to_event"]


@dataclass(slots=True)
class MappedEvent:
    event_type: str
    version: int
    business_key: str
    data: dict[str, Any]


def map_message(message: Message, standard: str) -> tuple[str, int, dict[str, Any]] | None:
    """(event_type, schema version, payload) for one message, or None when no map exists."""
    spec = load_map(standard, message.type)
    if spec is None:
        return None
    return spec["event_type"], int(spec["version"]), extract(spec, message)


def to_event(message: Message, *, interchange: Interchange, group: Group) -> MappedEvent | None:
    """Map one message; None when we have no mapping for its type.

    Raises :class:`MappingError` when a value cannot be normalised (an impossible date, a
    non-numeric quantity) — the message is then rejected, never half-mapped."""
    del group  # the payload does not depend on the functional group (yet)
    target = _target(interchange.standard, message.type)
    if target is None:
        return None
    spec, event_type, version, key = target
    data = extract(spec, message)
    return MappedEvent(event_type, version, key(data), data)


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
