"""Keeping AS2 bytes: inline in the row when small, else in the content-addressed blob store."""

from __future__ import annotations

from pathlib import Path

from gateway.inbox.spool import SpooledBody, keep, kept_bytes
from gateway.storage.models_as2 import As2Message


def keep_spooled(row: As2Message, spooled: SpooledBody, data_dir: Path) -> None:
    row.size, row.sha256 = spooled.size, spooled.sha256
    row.body, row.body_path = keep(spooled, data_dir)


def body_of(row: As2Message, data_dir: Path) -> bytes:
    return kept_bytes(row.body, row.body_path, data_dir)
