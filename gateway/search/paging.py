"""Keyset (cursor) paging for every list: newest first, ``(time, id)`` as the cursor.

No OFFSET (page 500 costs what page 1 costs, and rows arriving meanwhile shift nothing) and no
silent caps: a page size above the maximum is refused, a longer list has a ``next`` cursor.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


class BadPage(ValueError):
    pass


def parse_limit(raw: str | None, *, default: int, maximum: int) -> int:
    text = default if raw in (None, "") else raw
    if not str(text).isdigit() or not 1 <= int(text) <= maximum:
        raise BadPage(f"limit: expected 1-{maximum}, got {raw!r}; follow the 'next' link "
                      "for more")
    return int(text)


# "<microseconds since the epoch>~<hex of the id>": every string of this form is a position
# (the description can state it exactly, and a hand-made cursor is never a server error).
CURSOR_PATTERN = r"^[0-9]{1,16}~([0-9a-f]{2}){1,100}$"
CURSOR_SCHEMA = {"type": "string", "pattern": CURSOR_PATTERN}
_CURSOR = re.compile(CURSOR_PATTERN)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode(at: datetime, ident: str) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    micros = (at - EPOCH) // timedelta(microseconds=1)
    return f"{max(micros, 0)}~{ident.encode()[:100].hex()}"


def decode(cursor: str) -> tuple[datetime, str]:
    if not _CURSOR.match(cursor):
        raise BadPage(f"after: not a cursor from a 'next' link: {cursor!r}")
    micros, _, ident = cursor.partition("~")
    return (EPOCH + timedelta(microseconds=int(micros)),
            bytes.fromhex(ident).decode("utf-8", "replace"))


def newest_first(query: Select[T], time_col: InstrumentedAttribute[datetime],
                 id_col: InstrumentedAttribute[str], after: str | None,
                 limit: int) -> Select[T]:
    """``query`` ordered newest first, starting after the cursor, one row more than a page
    (the extra row says whether there is a next page)."""
    if after:
        at, ident = decode(after)
        query = query.where(or_(time_col < at, and_(time_col == at, id_col < ident)))
    return query.order_by(time_col.desc(), id_col.desc()).limit(limit + 1)


def split(rows: list[Any], limit: int, key: Any) -> tuple[list[Any], str | None]:
    """The page and the cursor of the next one (None on the last page)."""
    page = rows[:limit]
    if len(rows) > limit and page:
        at, ident = key(page[-1])
        return page, encode(at, ident)
    return page, None
