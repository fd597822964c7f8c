"""What one gateway process holds: settings, database engine, a thread pool for blocking work.

Storage calls are synchronous SQLAlchemy; handlers run them with :meth:`Runtime.run` so the event
loop never waits on the database (``async`` stays at the edge).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings
from gateway.inbox.committer import InboxCommitter
from gateway.storage.db import make_engine, session_factory

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="edigate-db")
    )
    # Processing (translation, then one write transaction) gets its own small pool: it is
    # CPU-bound, so more threads only contend for the interpreter and the writer lock, and a
    # backlog of it never delays the commits and reads other requests are waiting on.
    processing: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2,
                                                   thread_name_prefix="edigate-process")
    )

    # Business time: the wall clock, or in a demo the scenario's calendar (which runs a day
    # every few seconds), so planning and the supplier scorecard see the dates the simulated
    # suppliers work to. Timestamps of what happens (receipts, runs, audit) stay wall time.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _committer: InboxCommitter | None = field(default=None, init=False, repr=False)
    _reads: sessionmaker[Session] | None = field(default=None, init=False, repr=False)

    @property
    def reads(self) -> sessionmaker[Session]:
        """Sessions for work that only reads. On SQLite they never queue for the writer's
        turn, which under a burst of receipts would hold a read back behind the inbox (see
        :mod:`gateway.storage.db`); elsewhere they are ordinary sessions."""
        if self._reads is None:
            self._reads = session_factory(self.engine.execution_options(sqlite_read_only=True))
        return self._reads

    @property
    def inbox(self) -> InboxCommitter:
        """The group-commit writer of received bytes (started on first use)."""
        if self._committer is None:
            self._committer = InboxCommitter(self.sessions, self.settings.data_path)
        return self._committer

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings.resolved_database_url)
        return cls(settings=settings, engine=engine, sessions=session_factory(engine))

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        # In a copy of the caller's context: the thread's log lines carry the request's
        # correlation id, and whatever the work binds stays with it.
        return await loop.run_in_executor(self.executor, contextvars.copy_context().run,
                                          functools.partial(fn, *args, **kwargs))

    async def run_processing(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.processing, contextvars.copy_context().run,
                                          functools.partial(fn, *args, **kwargs))

    def stop_threads(self) -> None:
        """Finish queued work and stop this runtime's threads (the engine stays usable)."""
        if self._committer is not None:
            self._committer.close()
        self.processing.shutdown(wait=True)
        self.executor.shutdown(wait=True)

    def close(self) -> None:
        self.stop_threads()
        self.engine.dispose()
