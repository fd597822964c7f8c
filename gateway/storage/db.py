"""Engine and session set-up for SQLite (embedded) and PostgreSQL (production).

SQLite runs in WAL mode with foreign keys on and a busy timeout, so the HTTP listener, the jobs
and the CLI can share one file; ``synchronous=FULL`` because promise 1 (nothing accepted is lost)
means a commit must survive power loss before we acknowledge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker


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


def _sqlite_begin(conn: Any) -> None:
    # A deferred transaction that reads then writes can fail at once with "database is locked"
    # (a lock upgrade ignores busy_timeout). Writers therefore begin IMMEDIATE and wait their
    # turn; read-only work uses ``engine.execution_options(sqlite_read_only=True)``.
    if conn.get_execution_options().get("sqlite_read_only"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


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
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    try:
        return create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"database URL {url!r} needs the driver {exc.name!r}: pip install 'edigate[postgres]'"
        ) from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


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
