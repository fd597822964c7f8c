"""Received bodies: small ones stay in memory (the database commit makes them durable), large
ones stream to an fsync'd spool file and land in the blob store; nothing is left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.inbox.spool import INLINE_LIMIT, BodyTooLarge, keep, kept_bytes, spool_bytes


@pytest.mark.parametrize("size", [0, 10, INLINE_LIMIT, INLINE_LIMIT + 1, 3 * INLINE_LIMIT + 7])
def test_bodies_are_kept_inline_or_as_blobs_byte_for_byte(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    body = spool_bytes([data[i:i + 65536] for i in range(0, len(data), 65536)], tmp_path,
                       1 << 30)
    assert body.size == size
    raw, blob = keep(body, tmp_path)
    assert (raw is not None) == (size <= INLINE_LIMIT)
    assert kept_bytes(raw, blob, tmp_path) == data
    spool = tmp_path / "spool"
    assert not spool.exists() or not any(spool.iterdir()), "a spool file was left behind"


def test_an_oversized_body_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(BodyTooLarge):
        spool_bytes([b"x" * INLINE_LIMIT, b"y" * INLINE_LIMIT], tmp_path, INLINE_LIMIT + 10)
    spool = tmp_path / "spool"
    assert not spool.exists() or not any(spool.iterdir())
