"""Acknowledgments: X12 997/999/TA1 and EDIFACT CONTRL built from the error model, and inbound
acknowledgments read back into it.

    build_acknowledgments(result, next_control, now, x12_ack=None) -> list[AckDocument]
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from translators.result import AckDocument, TranslationResult


def build_acknowledgments(result: TranslationResult, next_control: Callable[[str], int],
                          now: datetime, x12_ack: str | None = None) -> list[AckDocument]:
    """Every acknowledgment we would send for ``result``: per interchange a TA1 (interchange
    faults or ISA14 = 1), a 997/999 per functional group, or one CONTRL. None for an inbound
    acknowledgment. ``x12_ack`` ("997"/"999") overrides the choice made from GS08."""
    from translators.acks.build import build_all

    return build_all(result, next_control, now, x12_ack)


__all__ = ["build_acknowledgments"]
