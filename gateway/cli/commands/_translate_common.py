"""Shared by ``edigate translate``, ``validate`` and ``ack``: read a file, load overlays,
translate — every failure a one-line :class:`CliError`."""

from __future__ import annotations

from pathlib import Path

from gateway.cli import CliError
from translators import Overlay, OverlayError, TranslationResult, load_overlay, translate

MAX_BYTES = 256 * 1024 * 1024


def read_and_translate(path: str, guides: tuple[str, ...], strict: bool) -> TranslationResult:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_BYTES:
            raise CliError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
        data = file.read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: {exc.strerror or exc}") from None
    overlays: list[Overlay] = []
    for name in guides:
        try:
            overlays.append(load_overlay(name))
        except OverlayError as exc:
            raise CliError(str(exc)) from None
    try:
        result = translate(data, overlays=tuple(overlays), lenient=not strict)
    except OverlayError as exc:
        raise CliError(str(exc)) from None
    if not result.interchanges:
        raise CliError(f"{path}: no EDIFACT or X12 interchange found")
    return result
