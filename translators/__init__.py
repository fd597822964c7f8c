"""translators: bytes <-> interchange trees <-> validated messages <-> schema events.

The façade the gateway uses:

    translate(data, overlays=(), lenient=True)        -> TranslationResult (events settled)
    iter_translate(source, overlays=(), lenient=True) -> the same, one message at a time
    refuse_interchange(result, index, error)          -> refuse one interchange (receiver check)
    build_acknowledgments(result, next_control, now)  -> list[AckDocument]
    load_overlay(name)                                -> Overlay (a partner guide overlay)
    render_document(event_type, data, profile=..., control=..., now=...) -> bytes

Pure: no I/O beyond reading the package's own data files; time is passed in.
"""

from __future__ import annotations

import gc
from typing import Any

from translators.acks import build_acknowledgments
from translators.overlays import Overlay, OverlayError, load_overlay
from translators.result import (
    AckDocument,
    InterchangeResult,
    MessageResult,
    TranslationResult,
    refuse_interchange,
    settle_events,
)
from translators.streaming import TranslationStream, iter_translate
from translators.validation.pipeline import translate as _translate

__all__ = ["AckDocument", "InterchangeResult", "MessageResult", "Overlay", "OverlayError",
           "TranslationResult", "TranslationStream", "build_acknowledgments", "iter_translate",
           "load_overlay", "refuse_interchange", "render_document", "translate"]


def translate(data: bytes, overlays: tuple[Overlay, ...] = (), lenient: bool = True,
              x12_ack: str | None = None) -> TranslationResult:
    """parse -> validate -> map, with every message's outcome settled (see
    :func:`translators.result.settle_events`): a message whose event cannot be produced is
    rejected with the reason, in the result, the JSON report and the acknowledgment alike."""
    # (the collector stays off until the events are settled too, as in the pipeline itself:
    # the first allocation after re-enabling it would rescan the whole fresh tree)
    enabled = gc.isenabled()
    gc.disable()
    try:
        return settle_events(_translate(data, overlays, lenient, x12_ack))
    finally:
        if enabled:
            gc.enable()


def __getattr__(name: str) -> Any:
    # Rendering pulls in the whole render package; load it only when someone asks for it.
    if name == "render_document":
        from translators.render import render_document

        return render_document
    raise AttributeError(f"module 'translators' has no attribute {name!r}")
