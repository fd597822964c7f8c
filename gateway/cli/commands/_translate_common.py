"""Shared by ``edigate translate``, ``validate``, ``ack``, ``parse``, ``render`` and
``replay``: read a file, load overlays, translate — every failure a one-line
:class:`CliError`, whatever the file holds (:func:`guarded`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import click

from gateway.cli import CliError
from translators import (
    MessageResult,
    Overlay,
    OverlayError,
    TranslationResult,
    iter_translate,
    load_overlay,
    translate,
)

F = TypeVar("F", bound=Callable[..., Any])


def one_line(text: str, limit: int = 300) -> str:
    """``text`` as one printable line of at most ``limit`` characters (partner data may hold
    line breaks, control characters and undecodable bytes)."""
    flat = " ".join(text.split())
    flat = "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else "?"
                   for c in flat)
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def printable(text: str) -> str:
    """``text`` safe to write to any terminal encoding: undecodable input bytes (kept as
    surrogates by the parser) become backslash escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def guarded(what: str) -> Callable[[F], F]:
    """Turn any exception a command does not expect into one line on stderr and exit code 1
    (hostile, binary or huge input must never print a traceback). Click's own exits, CliError
    and SystemExit pass through."""
    def wrap(function: F) -> F:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit,
                    KeyboardInterrupt):
                raise
            except MemoryError:
                raise CliError(f"{what}: out of memory") from None
            except Exception as exc:  # (the point: no traceback, ever)
                detail = one_line(str(exc)) or type(exc).__name__
                raise CliError(f"{what} failed: {type(exc).__name__}: {detail}") from None
        return run  # type: ignore[return-value]
    return wrap

MAX_BYTES = 256 * 1024 * 1024


def read_file(path: str) -> bytes:
    """The bytes of ``path``, or a one-line CliError (missing, a directory, unreadable,
    larger than MAX_BYTES)."""
    with open_file(path) as stream:
        try:
            return stream.read()
        except OSError as exc:
            raise CliError(f"cannot read {one_line(path)}: {exc.strerror or exc}") from None


def open_file(path: str) -> BinaryIO:
    """``path`` opened for reading in chunks, or a one-line CliError (missing, a directory,
    unreadable, larger than MAX_BYTES)."""
    file = Path(path)
    try:
        if file.is_dir():
            raise CliError(f"cannot read {one_line(path)}: it is a directory")
        if file.stat().st_size > MAX_BYTES:
            raise CliError(f"{one_line(path)}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
        return file.open("rb")
    except OSError as exc:
        raise CliError(f"cannot read {one_line(path)}: {exc.strerror or exc}") from None


def load_overlays(guides: tuple[str, ...]) -> tuple[Overlay, ...]:
    overlays: list[Overlay] = []
    for name in guides:
        try:
            overlays.append(load_overlay(name))
        except OverlayError as exc:
            raise CliError(str(exc)) from None
    return tuple(overlays)


def no_interchange(path: str, result: TranslationResult) -> CliError:
    first = result.errors[0].message if result.errors else ""
    return CliError(f"{one_line(path)}: no EDIFACT or X12 interchange found"
                    + (f" ({one_line(first, 160)})" if first else ""))


def read_and_translate(path: str, guides: tuple[str, ...], strict: bool) -> TranslationResult:
    data = read_file(path)
    overlays = load_overlays(guides)
    try:
        result = translate(data, overlays=overlays, lenient=not strict)
    except OverlayError as exc:
        raise CliError(str(exc)) from None
    if not result.interchanges:
        raise no_interchange(path, result)
    return result


class StreamedTranslation:
    """The messages of a file one at a time (:func:`translators.iter_translate`: memory is
    bounded by the largest message, not the file). Iterating raises the CliError of an input
    without any interchange once all of it was read; ``result`` then holds every outcome and
    fault (without message trees or events)."""

    def __init__(self, path: str, guides: tuple[str, ...], strict: bool) -> None:
        self.path = path
        self.overlays = load_overlays(guides)
        self.handle = open_file(path)
        self.stream = iter_translate(self.handle, overlays=self.overlays, lenient=not strict)

    @property
    def result(self) -> TranslationResult:
        return self.stream.result

    def __iter__(self) -> Iterator[MessageResult]:
        with self.handle:
            try:
                yield from self.stream
            except OverlayError as exc:
                raise CliError(str(exc)) from None
        if not self.result.interchanges:
            raise no_interchange(self.path, self.result)
