"""Structured logging on the standard library.

One JSON object per line for machines, or a readable line for a terminal. A correlation id,
kept in a context variable, is attached to every record so one interchange can be followed from
the channel that received it through translation, events, planning and dispatch.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import functools
import json
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from gateway.storage.ids import random_hex

_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "edigate_correlation_id", default=None
)

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is ours.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def new_correlation_id() -> str:
    return random_hex()


def current_correlation_id() -> str | None:
    return _correlation_id.get()


@contextlib.contextmanager
def correlation(cid: str | None = None) -> Iterator[str]:
    """Bind a correlation id for the duration of a block (a request, a job, a replay)."""
    value = cid or new_correlation_id()
    token = _correlation_id.set(value)
    try:
        yield value
    finally:
        _correlation_id.reset(token)


def bind_correlation(cid: str | None) -> str:
    """Make ``cid`` (or a new id) the current one for the rest of this context: what a worker
    does when it takes up an interchange received earlier, so its lines carry the receipt's id.
    Callers run in a context of their own (:func:`in_new_context`, ``Runtime.run``), so the id
    does not outlive the work."""
    value = cid or new_correlation_id()
    _correlation_id.set(value)
    return value


P = ParamSpec("P")
T = TypeVar("T")


def in_new_context(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn`` in a copy of the current context: what it binds stays inside."""
    return contextvars.copy_context().run(fn, *args, **kwargs)


def stored_correlation(session: Any, interchange_id: str | None) -> str | None:
    """The correlation id stored with an interchange (None: no such row or none stored)."""
    if not interchange_id:
        return None
    from sqlalchemy import select

    from gateway.storage.models import Interchange

    return session.scalar(select(Interchange.correlation_id).where(
        Interchange.id == interchange_id)) or None


class CorrelationFilter(logging.Filter):
    """Stamp each record with the correlation id current where it was logged (a handler may
    format it later, in another thread, when the context is gone)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = _correlation_id.get()
        return True


class CorrelatedThreadPool(concurrent.futures.ThreadPoolExecutor):
    """A pool whose every task (a scheduled job) runs in a fresh context under a new
    correlation id, so all lines of one job run share an id and none leaks into the next."""

    def submit(self, fn: Callable[..., T], /, *args: Any,  # type: ignore[override]
               **kwargs: Any) -> concurrent.futures.Future[T]:
        return super().submit(contextvars.Context().run, functools.partial(_fresh, fn),
                              *args, **kwargs)


def _fresh(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    bind_correlation(None)
    return fn(*args, **kwargs)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        cid = getattr(record, "correlation_id", None) or _correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        entry.update({k: v for k, v in _extras(record).items() if k != "correlation_id"})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).astimezone().strftime("%H:%M:%S")
        cid = getattr(record, "correlation_id", None) or _correlation_id.get()
        extras = _extras(record)
        extras.pop("correlation_id", None)
        tail = " ".join(f"{k}={v}" for k, v in extras.items())
        parts = [stamp, f"{record.levelname.lower():7}", record.name + ":", record.getMessage()]
        if cid:
            parts.append(f"[{cid[:8]}]")
        if tail:
            parts.append(tail)
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(fmt: str = "console", level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    handler.addFilter(CorrelationFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiohttp's access log duplicates our request log line; keep it for warnings only.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Alembic narrates every migration context at INFO; our CLI prints the outcome itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler says "Running job" every few seconds and asyncssh narrates every connection
    # step: both drown the gateway's own lines at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("asyncssh").setLevel(logging.WARNING)


class MalformedRequestFilter(logging.Filter):
    """aiohttp logs a request it cannot parse (an oversized header line, a bad request line)
    at ERROR with a traceback whose message quotes the start of the offending bytes, which
    can be an ``Authorization: Bearer`` header. One WARNING line without contents instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg = "refused a malformed HTTP request from %s: %s (HTTP %s)"
            record.args = (remote, type(exc).__name__, exc.code)
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_malformed_requests() -> None:
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestFilter) for f in server.filters):
        server.addFilter(MalformedRequestFilter())
