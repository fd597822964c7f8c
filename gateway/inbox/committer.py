"""Group commit for the inbox: many concurrent receipts, one transaction and one fsync.

Every receipt must be durable before its answer leaves (promise 1), and on SQLite a durable
commit costs an fsync of a few milliseconds that no amount of threads can overlap: the writer
lock serialises them. One writer thread therefore takes every receipt waiting at that moment,
stores them in one transaction and wakes each waiting request when that commit returns. A
lone request pays what it paid before; under load the fsync is shared by the whole batch.

Exact resends are recognised as in :func:`gateway.inbox.store.accept`, also inside a batch (two
identical posts at once: the first is stored, the second is its duplicate). Should another
process store the same bytes between our look-up and our commit, the unique index refuses the
batch and each receipt is retried on its own with the per-receipt path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, String, any_, bindparam, insert, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.domain.states import InterchangeStatus
from gateway.inbox.spool import SpooledBody, keep
from gateway.inbox.store import Accepted, accept
from gateway.storage.db import ReceiptsAhead
from gateway.storage.ids import uuid7
from gateway.storage.models import Interchange

log = logging.getLogger("edigate.inbox")

# Enough to share one fsync among every request a busy server has in flight, small enough that
# one transaction never holds the writer lock for long.
MAX_BATCH = 256
# How long a batch waits for company when receipts arrive together (seconds).
LINGER = 0.002
# ... but only while they keep coming: a pause this long means the burst is all here.
GAP = 0.0005
# After a shared batch, how long without a receipt before other writers may go first again.
QUIET = 0.005


@dataclass
class Receipt:
    """What one request asks to store; the metadata of :func:`accept`."""

    body: SpooledBody
    partner_id: str | None
    channel: str
    now: datetime
    content_type: str = ""
    filename: str = ""
    correlation_id: str = ""


@dataclass(frozen=True)
class Committed:
    """The stored row's id, as the request needs it after the session is gone."""

    interchange_id: str
    duplicate: bool


_STOP = object()

# Which of a batch's bodies are stored already, by partner and digest. Built once: the
# expanding parameters keep one compiled statement for every batch (building the expression
# per batch cost more than running it). Partner first: the unique (partner_id, direction,
# sha256) index answers it.
_COLUMNS = (Interchange.partner_id, Interchange.sha256, Interchange.id)
_OF_DIGESTS = (Interchange.direction == "in",
               Interchange.sha256.in_(bindparam("digests", expanding=True)))
_KNOWN = select(*_COLUMNS).where(
    Interchange.partner_id.in_(bindparam("partners", expanding=True)), *_OF_DIGESTS)
_KNOWN_WITH_ANONYMOUS = select(*_COLUMNS).where(
    or_(Interchange.partner_id.in_(bindparam("partners", expanding=True)),
        Interchange.partner_id.is_(None)), *_OF_DIGESTS)
# PostgreSQL: arrays instead of expanding lists, so every batch size runs one statement text,
# which the driver prepares once (an expanding list is a new text, so a new statement to plan,
# for every batch size).
_PG_OF_DIGESTS = (Interchange.direction == "in",
                  Interchange.sha256 == any_(bindparam("digests", type_=ARRAY(String))))
_PG_KNOWN = select(*_COLUMNS).where(
    Interchange.partner_id == any_(bindparam("partners", type_=ARRAY(String))),
    *_PG_OF_DIGESTS)
_PG_KNOWN_WITH_ANONYMOUS = select(*_COLUMNS).where(
    or_(Interchange.partner_id == any_(bindparam("partners", type_=ARRAY(String))),
        Interchange.partner_id.is_(None)), *_PG_OF_DIGESTS)
_INSERT = insert(Interchange.__table__)

Waiter = Future[Committed] | asyncio.Future[Committed]


def _settle(waiter: Waiter, outcome: Committed | BaseException) -> None:
    if waiter.done():  # an abandoned request (client gone): its receipt is stored anyway
        return
    if isinstance(outcome, BaseException):
        waiter.set_exception(outcome)
    else:
        waiter.set_result(outcome)


def _settle_all(settled: list[tuple[asyncio.Future[Committed],
                                    Committed | BaseException]]) -> None:
    for waiter, outcome in settled:
        _settle(waiter, outcome)


class InboxCommitter:
    """A writer thread that commits receipts in batches; ``submit`` from any thread or loop."""

    def __init__(self, sessions: sessionmaker[Session], data_dir: Path,
                 max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        # Receipts go before processing and jobs at SQLite's single writer lock.
        self._engine: Engine = sessions.kw["bind"].execution_options(sqlite_receipts=True)
        self._postgres = self._engine.dialect.name == "postgresql"
        self._data_dir = data_dir
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.receipts = 0

    def submit(self, receipt: Receipt) -> Future[Committed]:
        self._ensure_started()
        future: Future[Committed] = Future()
        self._queue.put((receipt, future))
        return future

    async def commit(self, receipt: Receipt) -> Committed:
        # An event-loop future, settled together with the rest of its batch in one callback
        # (one wake-up of the loop per batch, not one per receipt).
        self._ensure_started()
        future: asyncio.Future[Committed] = asyncio.get_running_loop().create_future()
        self._queue.put((receipt, future))
        return await future

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="edigate-inbox-commit",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        ahead = ReceiptsAhead(self._engine)
        try:
            self._loop(ahead)
        finally:
            ahead.close()

    def _loop(self, ahead: ReceiptsAhead) -> None:
        busy = False
        expected = 1  # the size of recent batches (their peak, fading by 1/16 per batch)
        while True:
            try:
                # While receipts keep coming, processing and jobs hold back their writes
                # (SQLite); a quiet moment ends that.
                first = self._queue.get(timeout=QUIET) if busy else self._queue.get_nowait()
            except queue.Empty:
                ahead.release()
                first = self._queue.get()
            ahead.hold()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            # Under load (the previous batch was shared), linger a moment for more receipts:
            # a commit costs the same for one as for many. A lone request never waits. The
            # linger ends early once the batch is as large as recent ones (the usual senders
            # are all here: waiting longer only delays each of them) or when receipts stop
            # coming for GAP (the burst is over). Before this, every batch waited out LINGER,
            # and 64 senders waited 2 ms per commit for company that could not come.
            deadline = time.monotonic() + LINGER if busy else 0.0
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    wait = min(deadline - time.monotonic(), GAP)
                    if wait <= 0 or len(batch) >= expected:
                        break
                    try:
                        item = self._queue.get(timeout=wait)
                    except queue.Empty:
                        break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            busy = len(batch) > 1
            expected = max(len(batch), expected - expected // 16)
            self._commit_batch(batch)  # type: ignore[arg-type]
            if stop:
                return

    def _commit_batch(self, batch: list[tuple[Receipt, Waiter]]) -> None:
        live = [(r, w) for r, w in batch
                if not isinstance(w, Future) or w.set_running_or_notify_cancel()]
        if not live:
            return
        outcomes: list[Committed | BaseException]
        try:
            outcomes = list(self._store_together([r for r, _ in live]))
            self.batches += 1
            self.receipts += len(live)
        except IntegrityError:
            # Another process stored some of these bytes meanwhile: one by one, each receipt
            # finds its original.
            outcomes = []
            for receipt, _ in live:
                try:
                    outcomes.append(self._store_alone(receipt))
                except Exception as exc:
                    outcomes.append(exc)
        except Exception as exc:
            outcomes = [exc] * len(live)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Committed],
                                                            Committed | BaseException]]] = {}
        for (_, waiter), outcome in zip(live, outcomes, strict=True):
            if isinstance(waiter, Future):
                _settle(waiter, outcome)
            else:
                by_loop.setdefault(waiter.get_loop(), []).append((waiter, outcome))
        for loop, settled in by_loop.items():
            # RuntimeError: the loop closed meanwhile; nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle_all, settled)

    def _store_together(self, receipts: list[Receipt]) -> list[Committed]:
        # Core statements on a plain connection: the ORM session's bookkeeping costs more than
        # the two statements themselves, and nothing here needs objects back.
        with self._engine.begin() as conn:
            wanted = {(r.partner_id, r.body.sha256) for r in receipts}
            known: dict[tuple[str | None, str], str] = {}
            named = list({p for p, _ in wanted if p is not None})
            anonymous = any(p is None for p, _ in wanted)
            if self._postgres:
                statement = _PG_KNOWN_WITH_ANONYMOUS if anonymous else _PG_KNOWN
            else:
                statement = _KNOWN_WITH_ANONYMOUS if anonymous else _KNOWN
            found = conn.execute(statement, {"partners": named,
                                             "digests": list({sha for _, sha in wanted})})
            for partner_id, sha256, interchange_id in found:
                if (partner_id, sha256) in wanted:
                    known.setdefault((partner_id, sha256), interchange_id)
            results: list[Committed] = []
            rows: list[dict[str, object]] = []
            for receipt in receipts:
                key = (receipt.partner_id, receipt.body.sha256)
                if key in known:
                    receipt.body.discard()
                    results.append(Committed(known[key], duplicate=True))
                    continue
                raw, blob_path = keep(receipt.body, self._data_dir)
                row_id = uuid7()
                # Plain rows through one executemany: the ORM's per-object bookkeeping costs
                # more than the insert itself, and the request needs only the id back.
                rows.append({
                    "id": row_id, "partner_id": receipt.partner_id, "direction": "in",
                    "channel": receipt.channel, "received_at": receipt.now,
                    "sha256": receipt.body.sha256, "size": receipt.body.size, "raw": raw,
                    "blob_path": blob_path, "content_type": receipt.content_type[:200],
                    "filename": receipt.filename[:500], "status": InterchangeStatus.RECEIVED,
                    "status_detail": "", "correlation_id": receipt.correlation_id,
                    "attempts": 0, "standard": "", "sender_id": "", "receiver_id": "",
                    "control_number": "",
                })
                known[key] = row_id
                results.append(Committed(row_id, duplicate=False))
            if rows:
                conn.execute(_INSERT, rows)
        return results

    def _store_alone(self, receipt: Receipt) -> Committed:
        with self._sessions() as session, session.begin():
            accepted: Accepted = accept(
                session, receipt.body, data_dir=self._data_dir, partner_id=receipt.partner_id,
                channel=receipt.channel, now=receipt.now, content_type=receipt.content_type,
                filename=receipt.filename, correlation_id=receipt.correlation_id)
            return Committed(accepted.interchange.id, accepted.duplicate)
