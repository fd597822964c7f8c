"""Where a segment sits in the input: byte offset, line and column, computed on demand.

The parser records only a segment's character index in the decoded text it came from; the
byte offset (which differs from the character index only for multi-byte encodings) and the
line/column (which need the newline positions) are worked out when somebody asks.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate, count
from operator import add

# Answer this many line/column questions by counting before building the newline index: the
# reader asks once per chunk, and a clean file never asks again.
_COUNTED_QUERIES = 8


class TextSource:
    """One decoded stretch of input: its text, where it starts, and how it was decoded."""

    __slots__ = (
        "_newlines",
        "_one_to_one",
        "_queries",
        "byte_base",
        "column_base",
        "encoding",
        "line_base",
        "text",
    )

    def __init__(self, text: str, byte_base: int, line_base: int, column_base: int,
                 encoding: str) -> None:
        self.text = text
        self.byte_base = byte_base
        self.line_base = line_base
        self.column_base = column_base
        self.encoding = encoding
        self._one_to_one = encoding in ("latin-1", "cp037", "cp500") or text.isascii()
        self._newlines: list[int] | None = None
        self._queries = 0

    def byte_offset(self, index: int) -> int:
        if self._one_to_one:
            return self.byte_base + index
        return self.byte_base + len(self.text[:index].encode(self.encoding, "surrogateescape"))

    def line_col(self, index: int) -> tuple[int, int]:
        newlines = self._newlines
        if newlines is None:
            self._queries += 1
            if self._queries <= _COUNTED_QUERIES:
                text = self.text
                before = text.count("\n", 0, index)
                if before == 0:
                    return self.line_base, self.column_base + index
                return self.line_base + before, index - text.rfind("\n", 0, index)
            newlines = self._newlines = _newline_positions(self.text)
        before = bisect_right(newlines, index - 1)
        if before == 0:
            return self.line_base, self.column_base + index
        return self.line_base + before, index - newlines[before - 1]


def _newline_positions(text: str) -> list[int]:
    # Position of the k-th newline = length of the lines before it + k (all in C: a Python
    # loop over the newlines of a big chunk cost as much as parsing it).
    lines = text.split("\n")
    del lines[-1]
    return list(map(add, accumulate(map(len, lines)), count()))
