"""Verified API tokens, remembered for a few seconds so a busy partner is not looked up per call.

Every request used to cost a database round trip before any work; under load that look-up was
a large share of an ingest request. Only successful look-ups are kept (a wrong token always
reaches the database), keyed by the token's SHA-256 rather than the token itself, never past
the credential's own expiry. Revoking through this process's admin API forgets the credential
at once; other processes stop accepting it within ``auth.token_cache_seconds``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Bounded so a flood of distinct valid tokens cannot grow memory without end.
MAX_ENTRIES = 10_000


class TokenCache(Generic[T]):
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, int, T]] = {}
        self._lock = threading.Lock()
        # Look-ups in progress by key, for the caller to share among concurrent requests
        # (the web edge keeps its asyncio futures here).
        self.inflight: dict[str, Any] = {}

    @staticmethod
    def key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> T | None:
        if self.seconds <= 0:
            return None
        key = self.key(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            with self._lock:
                self._entries.pop(key, None)
            return None
        return entry[2]

    def put(self, token: str, credential_id: int, value: T, *,
            valid_for: float | None = None) -> None:
        """Remember ``value``; ``valid_for`` caps the time (seconds until the credential's
        own expiry)."""
        if self.seconds <= 0:
            return
        seconds = self.seconds if valid_for is None else min(self.seconds, valid_for)
        if seconds <= 0:
            return
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[self.key(token)] = (self._clock() + seconds, credential_id, value)

    def forget(self, credential_id: int) -> None:
        with self._lock:
            for key in [k for k, v in self._entries.items() if v[1] == credential_id]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
