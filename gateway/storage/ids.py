"""Row ids that sort by creation time (UUID version 7, RFC 9562).

Random (version 4) primary keys land all over their B-tree: every commit of a batch of new rows
dirties a page per row. Time-ordered ids append at the end of the index, so a batch of receipts
writes a few pages. They look and compare like any UUID string.
"""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> str:
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80 | rand & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))
