"""Shared plumbing for CLI commands: settings, logging and storage, with one-line errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from gateway.cli import CliError
from gateway.config import ConfigError, Settings, apply_process_settings, load_settings
from gateway.observability.logging import configure_logging
from gateway.runtime import Runtime
from gateway.storage.db import DatabaseError, ping
from gateway.storage.migrate import pending_message


def settings_from(ctx: click.Context) -> Settings:
    root = ctx.find_root()
    cached = root.meta.get("edigate.settings")
    if cached is None:
        try:
            cached = load_settings((root.obj or {}).get("config_path"))
        except ConfigError as exc:
            raise CliError(f"configuration: {exc}") from None
        configure_logging(cached.log_format, cached.log_level)
        apply_process_settings(cached)
        root.meta["edigate.settings"] = cached
    return cached


def runtime_from(ctx: click.Context, *, require_schema: bool = True) -> Runtime:
    settings = settings_from(ctx)
    try:
        runtime = Runtime.from_settings(settings)
        ping(runtime.engine)
    except DatabaseError as exc:
        raise CliError(str(exc)) from None
    if require_schema:
        pending = pending_message(runtime.engine)
        if pending:
            runtime.close()
            raise CliError(pending)
    ctx.call_on_close(runtime.close)
    return runtime


@contextmanager
def transaction(runtime: Runtime) -> Iterator[Session]:
    with runtime.sessions.begin() as session:
        yield session
