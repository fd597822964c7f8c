"""API pull connector: for partners that expose an API instead of calling ours.

Profile::

    [channels.api_pull]
    base_url = "https://supplier.example/api"   # we GET {base_url}/events?after=<cursor>
    token_env = "QUANTUM_API_TOKEN"              # optional bearer token, from the environment
    interval_seconds = 60                        # how often the scheduler polls (default 60)
    rate_per_second = 2                          # per partner, across pages and retries

gateway/reconcile/jobs.py polls every partner with this channel at its interval (one process
at a time, under a database lease). The feed answers
``{"events": [CloudEvent, ...], "next": <cursor>}``. Each page is committed to the inbox
first (channel ``api_pull``), then validated and stored as API-path events exactly like
``POST /api/v1/events``, with the cursor advanced in the same transaction: a crash re-reads at
most one page, and a re-read page is recognised by its bytes (no second effect). Transient
failures (connection errors, 429, 5xx) are retried with exponential backoff; when the retries
run out the poll fails with a named :class:`PullError` and the next scheduled poll goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from gateway.domain.states import InterchangeStatus
from gateway.inbox.spool import spool_bytes
from gateway.inbox.store import accept
from gateway.observability import metrics
from gateway.pipeline.api_events import ingest_events
from gateway.runtime import Runtime
from gateway.storage.models import Partner
from gateway.storage.models_reconciler import PullCursor

log = logging.getLogger("edigate.pull")
MAX_PAGES = 50  # per poll: a huge backlog is read over several polls, not in one go


class PullError(Exception):
    """The partner's feed answered something we cannot use (named, never a traceback)."""


class _Transient(Exception):
    pass


class RateLimiter:
    """At most ``rate`` requests per second for one partner (a simple spacing limiter)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval


DEFAULT_INTERVAL = 60.0
DEFAULT_RATE = 2.0


def _positive(partner_id: str, conf: dict[str, Any], key: str, default: float) -> float:
    value = conf.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise PullError(f"{partner_id}: channels.api_pull.{key} must be a number > 0, "
                        f"not {value!r}")
    return float(value)


@dataclass
class PullSettings:
    base_url: str
    token: str | None
    rate_per_second: float
    interval_seconds: float = DEFAULT_INTERVAL

    @classmethod
    def from_profile(cls, partner_id: str, channels: dict[str, Any]) -> PullSettings:
        conf = channels.get("api_pull")
        if not isinstance(conf, dict) or not isinstance(conf.get("base_url"), str):
            raise PullError(f"{partner_id}: channels.api_pull.base_url is missing")
        token = conf.get("token")
        if conf.get("token_env"):
            token = os.environ.get(str(conf["token_env"]))
        return cls(str(conf["base_url"]).rstrip("/"), token if isinstance(token, str) else None,
                   _positive(partner_id, conf, "rate_per_second", DEFAULT_RATE),
                   _positive(partner_id, conf, "interval_seconds", DEFAULT_INTERVAL))


class PullConnector:
    """Polls partners' feeds; one limiter per partner, shared by every poll of it."""

    def __init__(self, runtime: Runtime, http: aiohttp.ClientSession, *,
                 attempts: int = 4, backoff: float = 0.5,
                 limiters: dict[str, RateLimiter] | None = None) -> None:
        self.runtime = runtime
        self.http = http
        self.attempts, self.backoff = attempts, backoff
        # Shared with the scheduler's later connectors: the rate holds across polls, not
        # just within one.
        self._limiters = limiters if limiters is not None else {}

    async def poll(self, partner_id: str) -> int:
        """Read the feed from the stored cursor on; returns how many events were stored."""
        runtime = self.runtime

        def load() -> tuple[dict[str, Any], str]:
            with runtime.sessions() as s:
                partner = s.get(Partner, partner_id)
                if partner is None:
                    raise PullError(f"no partner {partner_id!r}")
                cursor = s.get(PullCursor, partner_id)
                return dict(partner.profile.get("channels", {})), cursor.cursor if cursor \
                    else "0"

        channels, cursor = await runtime.run(load)
        settings = PullSettings.from_profile(partner_id, channels)
        limiter = self._limiters.get(partner_id)
        if limiter is None or limiter.rate != settings.rate_per_second:  # profile changed
            limiter = self._limiters[partner_id] = RateLimiter(settings.rate_per_second)
        stored = 0
        for _ in range(MAX_PAGES):
            body = await self._fetch(settings, limiter, cursor)
            try:
                page = json.loads(body)
                events, following = page["events"], str(page["next"])
                if not isinstance(events, list):
                    raise TypeError("events is not a list")
            except (ValueError, KeyError, TypeError) as exc:
                raise PullError(f"{partner_id}: feed page after {cursor!r} is not "
                                f'{{"events": [...], "next": ...}}: {exc}') from None
            if not events:
                break
            stored += await runtime.run(self._store, partner_id, cursor, following, events)
            cursor = following
        return stored

    async def _fetch(self, settings: PullSettings, limiter: RateLimiter, cursor: str) -> bytes:
        headers = {"Accept": "application/json"}
        if settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
        url = f"{settings.base_url}/events"
        try:
            async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(self.attempts), reraise=True,
                    wait=wait_exponential(multiplier=self.backoff, max=30),
                    retry=retry_if_exception_type(_Transient)):
                with attempt:
                    await limiter.wait()
                    try:
                        async with self.http.get(url, params={"after": cursor},
                                                 headers=headers,
                                                 timeout=aiohttp.ClientTimeout(total=30)) as resp:
                            if resp.status == 429 or resp.status >= 500:
                                raise _Transient(f"{url} answered {resp.status}")
                            if resp.status != 200:
                                raise PullError(f"{url} answered {resp.status}: "
                                                f"{(await resp.text())[:200]}")
                            return await resp.read()
                    except (aiohttp.ClientError, TimeoutError) as exc:
                        raise _Transient(f"{url}: {exc}") from exc
        except _Transient as exc:
            # Named for the log and the cursor row; the next scheduled poll tries again.
            raise PullError(f"gave up after {self.attempts} attempts: {exc}") from None
        raise PullError(f"{url}: no answer")  # unreachable: tenacity re-raises

    def _store(self, partner_id: str, cursor: str, following: str,
               events: list[Any]) -> int:
        runtime = self.runtime
        raw = json.dumps(events, sort_keys=True).encode()
        now = datetime.now(UTC)
        with runtime.sessions.begin() as s:
            spooled = spool_bytes(raw, runtime.settings.data_path,
                                  runtime.settings.max_body_bytes)
            accepted = accept(s, spooled, data_dir=runtime.settings.data_path,
                              partner_id=partner_id, channel="api_pull", now=now,
                              content_type="application/json", filename=f"after-{cursor}")
            count = 0
            row = accepted.interchange
            if not accepted.duplicate:
                outcome = ingest_events(s, row, raw, partner_id=partner_id, now=now)
                row.status = (InterchangeStatus.PROCESSED if outcome.status < 400
                              else InterchangeStatus.QUARANTINED)
                row.status_detail = "" if outcome.status < 400 else \
                    str(outcome.body.get("detail", ""))
                row.processed_at = now
                row.error_report = {"http_status": outcome.status, "response": outcome.body}
                count = len(outcome.event_ids)
                if outcome.status >= 400:
                    log.warning("pull %s: page after %s quarantined: %s", partner_id, cursor,
                                row.status_detail)
            state = s.get(PullCursor, partner_id)
            if state is None:
                state = PullCursor(partner_id=partner_id, cursor=following, updated_at=now)
                s.add(state)
            state.cursor, state.updated_at = following, now
            state.last_error = (row.status_detail
                                if row.status == InterchangeStatus.QUARANTINED else "")
        metrics.received(partner_id, "api_pull", "duplicate" if accepted.duplicate else "received")
        return count
