"""Keeping AS2 bytes: inline in the row when small, else in the content-addressed blob store."""

from __future__ import annotations

from pathlib import Path

from gateway.inbox.spool import INLINE_LIMIT, SpooledBody, load_blob, store_blob
from gateway.storage.models_as2 import As2Message


def keep_spooled(row: As2Message, spooled: SpooledBody, data_dir: Path) -> None:
    row.size, row.sha256 = spooled.size, spooled.sha256
    if spooled.size <= INLINE_LIMIT:
        row.body = spooled.read()
        spooled.discard()
    else:
        row.body_path = store_blob(spooled, data_dir)


def body_of(row: As2Message, data_dir: Path) -> bytes:
    if row.body is not None:
        return row.body
    if row.body_path:
        return load_blob(row.body_path, data_dir)
    return b""
