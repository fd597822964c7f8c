"""How a simulated supplier reads what we sent it, and acknowledges it.

A real supplier's EDI system parses our 850/ORDERS (or 830/862, DELFOR/DELJIT) and answers
with a 997 or CONTRL. The simulator does the same with the translators: ``translate`` gives the
payloads, ``build_acknowledgments`` the functional acknowledgment addressed back to us.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Received:
    """One business document found in an interchange we sent."""

    event_type: str  # purchase_order | order_change | delivery_schedule | functional_ack
    data: dict[str, Any]
    control: str


def read_interchange(raw: bytes) -> tuple[list[Received], Any]:
    """The documents in ``raw`` and the translation result (for the acknowledgment)."""
    from translators import translate

    result = translate(raw, lenient=True)
    found: list[Received] = []
    for message in result.messages:
        event = getattr(message, "event", None)
        if event is not None:
            found.append(Received(event.event_type, dict(event.data),
                                  str(message.message_control)))
    return found, result


def acknowledgments_for(result: Any, *, next_control: Callable[[str], int],
                        now: datetime) -> list[bytes]:
    """The 997/999/CONTRL documents answering ``result`` (empty for an acknowledgment)."""
    from translators import build_acknowledgments

    return [doc.data for doc in build_acknowledgments(result, next_control=next_control,
                                                      now=now)]


def control_counter(start: int) -> Callable[[str], int]:
    """Control numbers per scope, as a partner's EDI system keeps them."""
    counters: dict[str, itertools.count[int]] = {}

    def next_control(scope: str) -> int:
        return next(counters.setdefault(scope, itertools.count(start)))

    return next_control
