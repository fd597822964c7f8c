"""Engine and session set-up for SQLite (embedded) and PostgreSQL (production).

SQLite runs in WAL mode with foreign keys on and a busy timeout, so the HTTP listener, the jobs
and the CLI can share one file; ``synchronous=FULL`` because promise 1 (nothing accepted is lost)
means a commit must survive power loss before we acknowledge.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from gateway.domain.lifecycle import check_flush


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says which and why, in one line."""


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control away from pysqlite (it defers BEGIN and breaks SAVEPOINT);
    # the "begin" listener below issues BEGIN itself.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _side_file(database: str | None, suffix: str) -> Path | None:
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + suffix)


class _WriterTurn:
    """Whose turn it is to write to one SQLite file, across threads and processes.

    SQLite lets one writer in at a time and makes the others poll with growing sleeps (up to
    100 ms each), so under load a waiting writer sleeps long after the lock is free. Writers
    queue here instead: a thread lock within the process, an ``flock`` on a file beside the
    database between processes; both wake the next writer the moment the turn is released
    (after COMMIT or ROLLBACK, see :func:`_sqlite_end`).

    Receipts go first (see :class:`ReceiptsAhead`): before starting a transaction, every other
    writer waits while receipts are announced, for at most ``YIELD_LIMIT`` seconds, so a burst
    of receipts delays processing and jobs but never starves them.
    """

    YIELD_LIMIT = 1.0

    def __init__(self, database: str | None) -> None:
        self._threads = threading.RLock()
        self._path = _side_file(database, ".writer")
        self._receipts = _side_file(database, ".receipts")
        self._fd: int | None = None
        self._probe_fd: int | None = None
        self._depth = 0

    def _let_receipts_pass(self) -> None:
        if self._receipts is None:
            return
        if self._probe_fd is None:
            self._probe_fd = os.open(self._receipts, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.YIELD_LIMIT
        while True:
            try:
                fcntl.flock(self._probe_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.0005)
                continue
            fcntl.flock(self._probe_fd, fcntl.LOCK_UN)
            return

    def acquire(self, *, receipts: bool = False) -> None:
        if not receipts and self._depth == 0:
            self._let_receipts_pass()
        self._threads.acquire()
        self._depth += 1
        if self._path is None or self._depth > 1:
            return
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()


class ReceiptsAhead:
    """Announces, while held, that receipts are waiting to be committed to a SQLite file:
    other writers (processing, jobs) hold back their next transaction (see
    :class:`_WriterTurn`). A shared ``flock``, so it works across processes; a no-op on
    other databases, whose writers do not queue behind one lock."""

    def __init__(self, engine: Engine) -> None:
        path = (_side_file(engine.url.database, ".receipts")
                if engine.dialect.name == "sqlite" else None)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path else None
        self.held = False

    def hold(self) -> None:
        if self._fd is not None and not self.held:
            fcntl.flock(self._fd, fcntl.LOCK_SH)
            self.held = True

    def release(self) -> None:
        if self._fd is not None and self.held:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self.held = False

    def close(self) -> None:
        self.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_TURN = "edigate_writer_turn"

# Connections kept per process on a server database (PostgreSQL), see :func:`make_engine`.
POOL_SIZE = 16


def _sqlite_begin(turn: _WriterTurn) -> Callable[[Any], None]:
    def begin(conn: Any) -> None:
        # A deferred transaction that reads then writes can fail at once with "database is
        # locked" (a lock upgrade ignores busy_timeout). Writers therefore wait for their turn
        # and begin IMMEDIATE; read-only work uses
        # ``engine.execution_options(sqlite_read_only=True)`` and never waits.
        if conn.get_execution_options().get("sqlite_read_only"):
            conn.exec_driver_sql("BEGIN")
            return
        turn.acquire(receipts=bool(conn.get_execution_options().get("sqlite_receipts")))
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            turn.release()
            raise
        conn.info[_TURN] = turn

    return begin


def _sqlite_end(statement: str) -> Callable[[Any], None]:
    def end(conn: Any) -> None:
        turn = conn.info.pop(_TURN, None)
        if turn is None:
            return
        # The turn may pass only once the transaction is over, and this hook runs before
        # SQLAlchemy's own COMMIT/ROLLBACK: end it here (pysqlite's later call is then a no-op).
        try:
            dbapi = conn.connection.dbapi_connection
            if dbapi is not None and dbapi.in_transaction:
                dbapi.execute(statement)
        finally:
            turn.release()

    return end


def _sqlite_checkin(dbapi_conn: Any, record: Any) -> None:
    # A connection returned to the pool never keeps the turn (belt and braces: commit and
    # rollback already passed it on).
    turn = record.info.pop(_TURN, None)
    if turn is not None:
        turn.release()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"database URL {url!r} is not valid: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        turn = _WriterTurn(parsed.database)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin(turn))
        event.listen(engine, "commit", _sqlite_end("COMMIT"))
        event.listen(engine, "rollback", _sqlite_end("ROLLBACK"))
        event.listen(engine, "checkin", _sqlite_checkin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # One connection for every thread of a process that may hold one at once (the request
    # pool's 8, processing's 2, the inbox writer, the broker relay and jobs): with the default
    # 5 a burst queued for connections instead of for the database.
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", POOL_SIZE)
    try:
        return create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"database URL {url!r} needs the driver {exc.name!r}: pip install 'edigate[postgres]'"
        ) from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that hold every status change to the domain's tables before writing it."""
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "before_flush", check_flush)
    return factory


def ping(engine: Engine) -> None:
    """Raise :class:`DatabaseError` with a one-line reason if the database is unreachable."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(
            f"database {engine.url.render_as_string(hide_password=True)} "
            f"is unreachable: {reason}"
        ) from None


def receipts_waiting(engine: Engine) -> Callable[[], bool]:
    """A cheap test whether receipts are announced (:class:`ReceiptsAhead`) on ``engine``'s
    SQLite file right now, for a writer deciding to end its transaction early so they go
    next; always False elsewhere (other databases do not queue writers behind one lock)."""
    path = (_side_file(engine.url.database, ".receipts")
            if engine.dialect.name == "sqlite" else None)
    if path is None:
        return lambda: False
    receipts = path

    def waiting() -> bool:
        try:
            fd = os.open(receipts, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops the probe's lock too
        return False

    return waiting
