"""A partner's implementation-guide overlays, named in its profile (``guides = [...]``)."""

from __future__ import annotations

from typing import Any

from gateway.storage.models import Partner


def overlays_for(partner: Partner | None) -> tuple[Any, ...]:
    if partner is None:
        return ()
    names = partner.profile.get("guides", [])
    if not names:
        return ()
    from translators import load_overlay

    return tuple(load_overlay(name) for name in names)
