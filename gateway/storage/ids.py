"""Row and correlation ids: time-ordered UUIDs (version 7, RFC 9562) and random hex ids.

Random (version 4) primary keys land all over their B-tree: every commit of a batch of new rows
dirties a page per row. Time-ordered ids append at the end of the index, so a batch of receipts
writes a few pages. They look and compare like any UUID string.

The random bits come from the operating system's generator, as ``os.urandom`` gives them, but
drawn a pool at a time: every request needs a correlation id and every receipt a row id, and
one ``getrandom`` call per id cost as much as a tenth of an ingest request where system calls
are slow. The pool is per thread (no lock on the hot path) and is dropped in a forked child, so
no two processes ever hand out the same bytes.
"""

from __future__ import annotations

import os
import threading
import time

POOL_BYTES = 4096


class _Pool(threading.local):
    def __init__(self) -> None:
        self.data = b""
        self.used = 0


_pool = _Pool()


def _forget_pool() -> None:
    global _pool
    _pool = _Pool()


os.register_at_fork(after_in_child=_forget_pool)


def random_bytes(n: int) -> bytes:
    """``n`` bytes from the OS generator (``os.urandom``), read ``POOL_BYTES`` at a time."""
    pool = _pool
    start = pool.used
    if start + n > len(pool.data):
        pool.data = os.urandom(max(POOL_BYTES, n))
        start = 0
    pool.used = start + n
    return pool.data[start:start + n]


def random_hex(n: int = 16) -> str:
    """``2n`` random hex digits: ``uuid.uuid4().hex`` has as many random bits as n = 16."""
    return random_bytes(n).hex()


def uuid7() -> str:
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(random_bytes(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80 | rand & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
