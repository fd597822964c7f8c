"""Rendering: event payload -> EDI bytes for everything we send.

    render_document("purchase_order", data, profile=..., control=..., now=...) -> bytes

purchase_order -> X12 850 / EDIFACT ORDERS; order_change -> 860 / ORDCHG; delivery_schedule
with schedule_type "forecast" -> 830 / DELFOR, "firm" -> 862 / DELJIT. The document is built as
an interchange tree and written by the syntax layer's serializer, so what we send is exactly
what our own parser reads. Code lists are the mapper's, read backwards, so a rendered document
maps back to the same payload.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from translators.render import edifact, x12
from translators.render.profile import ControlNumbers, RenderError, RenderProfile
from translators.render.writer import check_charset, check_x12_values
from translators.syntax import SerializeError, finalize, serialize
from translators.syntax.tree import Interchange

__all__ = ["OUTBOUND_EVENT_TYPES", "ControlNumbers", "RenderError", "RenderProfile",
           "build_interchange", "render_document"]

OUTBOUND_EVENT_TYPES = ("purchase_order", "order_change", "delivery_schedule")


def build_interchange(event_type: str, data: dict[str, Any], *, profile: RenderProfile,
                      control: ControlNumbers, now: datetime) -> Interchange:
    """The finalized interchange tree of one outbound document (one group, one message)."""
    if not isinstance(data, dict):
        raise RenderError(f"payload must be a JSON object, not {type(data).__name__}")
    profile.check()
    control.check(profile.standard)
    if profile.standard == "x12":
        x12.check_envelope_fields(profile)
        delimiters = replace(profile.delimiters or x12.default_delimiters(profile.version[:5]),
                             suffix=profile.segment_suffix)
        message_type, functional_id, body = x12.document(event_type, data, now)
        tree = finalize(x12.envelope(profile, control, now, message_type, functional_id,
                                     body, delimiters))
        check_x12_values(tree)
        return tree
    syntax = edifact.syntax_version(profile)
    delimiters = replace(profile.delimiters or edifact.default_delimiters(syntax),
                         suffix=profile.segment_suffix)
    message_type, body = edifact.document(event_type, data, now, delimiters.decimal,
                                          profile.version)
    return finalize(edifact.envelope(profile, control, now, message_type, body, delimiters))


def render_document(event_type: str, data: dict[str, Any], *, profile: RenderProfile,
                    control: ControlNumbers, now: datetime) -> bytes:
    """Payload -> the bytes of one interchange in the partner's dialect.

    Raises :class:`RenderError` (one line, names the field) when the payload cannot be written:
    a missing required field, a value holding an X12 delimiter, a character outside the
    partner's character set, a value no code list can express."""
    try:
        tree = build_interchange(event_type, data, profile=profile, control=control, now=now)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError, ArithmeticError) as exc:
        if isinstance(exc, RenderError):
            raise
        # A payload of the wrong shape (a number where a list belongs, a list for an object):
        # the event schemas refuse these upstream; a direct caller gets one line all the same.
        raise RenderError(f"{event_type} payload does not have the expected shape "
                          f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
                          ) from None
    check_charset(tree, profile)
    try:
        return serialize(tree)
    except SerializeError as exc:
        where = f" (charset {profile.charset or 'UNOC'})" if profile.standard == "edifact" else ""
        raise RenderError(f"{exc}{where}") from None
