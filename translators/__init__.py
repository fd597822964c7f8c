"""translators: bytes <-> interchange trees <-> validated messages <-> schema events.

The façade the gateway uses:

    translate(data, overlays=(), lenient=True)        -> TranslationResult
    build_acknowledgments(result, next_control, now)  -> list[AckDocument]
    load_overlay(name)                                -> Overlay (a partner guide overlay)
    render_document(event_type, data, profile=..., control=..., now=...) -> bytes

Pure: no I/O beyond reading the package's own data files; time is passed in.
"""

from __future__ import annotations

from typing import Any

from translators.acks import build_acknowledgments
from translators.overlays import Overlay, OverlayError, load_overlay
from translators.result import (
    AckDocument,
    InterchangeResult,
    MessageResult,
    TranslationResult,
)
from translators.validation.pipeline import translate

__all__ = ["AckDocument", "InterchangeResult", "MessageResult", "Overlay", "OverlayError",
           "TranslationResult", "build_acknowledgments", "load_overlay", "render_document",
           "translate"]


def __getattr__(name: str) -> Any:
    # Rendering pulls in the whole render package; load it only when someone asks for it.
    if name == "render_document":
        from translators.render import render_document

        return render_document
    raise AttributeError(f"module 'translators' has no attribute {name!r}")
