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
