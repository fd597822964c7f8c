"""Building located :class:`EdiError` objects for syntax and envelope faults."""

from __future__ import annotations

from typing import Any

from translators.errors import EdiError, Level
from translators.syntax.tree import Group, Interchange, Message, Segment


def fault(kind: str, message: str, *, level: Level, standard: str,
          interchange: Interchange | None = None, group: Group | None = None,
          msg: Message | None = None, segment: Segment | None = None,
          element: int | None = None, component: int | None = None,
          offset: int | None = None, line: int | None = None, column: int | None = None,
          severity: str = "error", bad_value: str = "", **extra: Any) -> EdiError:
    error = EdiError(kind=kind, message=message, level=level, standard=standard,
                     severity=severity)  # type: ignore[arg-type]
    if interchange is not None:
        error.interchange_control = _safe(lambda: interchange.control)
    if group is not None:
        error.group_control = _safe(lambda: group.control)
    if msg is not None:
        error.message_control = msg.control
        error.message_type = msg.type
    if segment is not None:
        error.segment_tag = segment.tag
        error.segment_position = segment.position or None
        error.offset, error.line, error.column = segment.offset, segment.line, segment.column
    if offset is not None:
        error.offset = offset
    if line is not None:
        error.line, error.column = line, column
    error.element_position = element
    error.component_position = component
    error.bad_value = bad_value[:35]
    if extra:
        error.extra = dict(extra)
    return error


def _safe(read: Any) -> str:
    try:
        return str(read())
    except (IndexError, AttributeError):
        return ""


# Syntax and envelope faults kept per parse: a hostile file can hold one fault per byte (a
# terminator that is also its filler), and reporting them all costs more than the parse.
MAX_FAULTS = 1000


def capped(errors: list[EdiError], error: EdiError) -> EdiError | None:
    """``error`` while ``errors`` has room; at the limit, one fault that says the rest were
    left out; then None."""
    count = len(errors)
    if count < MAX_FAULTS - 1:
        return error
    if count == MAX_FAULTS - 1:
        return EdiError(kind="syntax.too_many_faults", level="interchange",
                        standard=error.standard, interchange_control=error.interchange_control,
                        message=f"more than {MAX_FAULTS} syntax faults: the rest are not "
                                "reported", offset=error.offset, line=error.line,
                        column=error.column)
    return None
