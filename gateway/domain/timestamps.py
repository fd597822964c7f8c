"""How the APIs write a moment in time: one format, whatever the database handed back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from gateway.storage.types import NaiveDatetimeError


@overload
def api_timestamp(value: datetime) -> str: ...
@overload
def api_timestamp(value: None) -> None: ...
def api_timestamp(value: datetime | None) -> str | None:
    """An API timestamp: ISO 8601 in UTC with milliseconds and ``Z``, e.g.
    ``2026-12-07T23:15:03.123Z`` — the same text for the same moment, whichever database it
    was read from and however often."""
    if value is None:
        return None
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(f"naive datetime {value.isoformat()} has no zone to render")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
