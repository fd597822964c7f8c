"""Promise 5: a partner may submit only documents whose envelope names it as the sender."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gateway.storage.models import Partner


@dataclass(frozen=True)
class SenderCheck:
    ok: bool
    reason: str = ""


def check_sender(partner: Partner, interchanges: Iterable[object]) -> SenderCheck:
    """Every interchange's sender (UNB / ISA, and GS02 where the profile lists one) is ours."""
    by_standard: dict[str, set[tuple[str, str]]] = {}
    for ident in partner.identities:
        by_standard.setdefault(ident.standard, set()).add((ident.qualifier, ident.identifier))
    for info in interchanges:
        standard = getattr(info, "standard", "")
        qualifier = (getattr(info, "sender_qualifier", "") or "").strip()
        sender = (getattr(info, "sender_id", "") or "").strip()
        known = by_standard.get(standard, set())
        if (qualifier, sender) not in known and ("", sender) not in known:
            return SenderCheck(False, f"{standard} sender {qualifier + ':' if qualifier else ''}"
                                      f"{sender} is not an identity of partner {partner.id}")
        gs_ids = {i for _, i in by_standard.get("x12-gs", set())}
        if standard == "x12" and gs_ids:
            for group in getattr(info, "groups", []) or []:
                app_sender = (getattr(group, "app_sender", "") or "").strip()
                if app_sender not in gs_ids:
                    return SenderCheck(False, f"GS02 application sender {app_sender} is not an "
                                              f"identity of partner {partner.id}")
    return SenderCheck(True)
