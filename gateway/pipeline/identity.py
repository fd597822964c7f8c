"""Promise 5: a partner may submit only documents whose envelope names it as the sender, and
an interchange is processed only when it is addressed to us (the receiver check)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateway.storage.models import Partner
from translators import TranslationResult, refuse_interchange
from translators.errors import EdiError


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


# -- the receiver: an interchange must be addressed to us -------------------------------------

# A partner profile may list the identities it addresses us by (``[[receivers]]`` with
# ``standard``, optional ``qualifier``, ``id``); the X12 GS03 application receiver is checked
# too when ``standard = "x12-gs"`` entries exist. Without any, the check is still on: the
# receiver must be our own configured identity (``identity.*`` settings, any qualifier, since
# partners disagree on ZZ/01/ZZZ or send none), so a misaddressed interchange never passes
# silently.
RECEIVER_STANDARDS = ("x12", "edifact", "x12-gs")
DEFAULT_RECEIVERS: dict[str, set[tuple[str, str]]] = {
    "x12": {("ZZ", "EDIGATE"), ("", "EDIGATE")},
    "edifact": {("ZZZ", "EDIGATE"), ("", "EDIGATE")},
}


def set_default_receivers(x12: tuple[str, str], edifact: tuple[str, str]) -> None:
    """Our own identities, (qualifier, id) per standard, for partners listing no receivers."""
    DEFAULT_RECEIVERS.clear()
    for standard, (qualifier, ident) in (("x12", x12), ("edifact", edifact)):
        DEFAULT_RECEIVERS[standard] = {(qualifier.strip(), ident.strip()), ("", ident.strip())}


def receiver_identities(partner: Partner) -> dict[str, set[tuple[str, str]]]:
    """Our identities this partner may address, by standard: {standard: {(qualifier, id)}}.
    A profile without ``[[receivers]]`` gets our configured identities."""
    if not (partner.profile or {}).get("receivers"):
        return {standard: set(ids) for standard, ids in DEFAULT_RECEIVERS.items()}
    out: dict[str, set[tuple[str, str]]] = {}
    for item in (partner.profile or {}).get("receivers", []) or []:
        if not isinstance(item, dict):
            continue
        standard = str(item.get("standard", ""))
        out.setdefault(standard, set()).add((str(item.get("qualifier", "") or "").strip(),
                                             str(item.get("id", "")).strip()))
    return out


def foreign_receiver(interchange: Any, ours: dict[str, set[tuple[str, str]]]) -> str:
    """Why this interchange is not addressed to us ("" when it is, or nothing is configured
    for its standard)."""
    standard = getattr(interchange, "standard", "")
    known = ours.get(standard)
    if known:
        qualifier = (getattr(interchange, "receiver_qualifier", "") or "").strip()
        receiver = (getattr(interchange, "receiver_id", "") or "").strip()
        if (qualifier, receiver) not in known and ("", receiver) not in known:
            field = "ISA07/ISA08" if standard == "x12" else "UNB S003"
            return (f"{standard} receiver {qualifier + ':' if qualifier else ''}{receiver} "
                    f"({field}) is not one of our identities")
    gs_ids = {i for _, i in ours.get("x12-gs", set())}
    if standard == "x12" and gs_ids:
        for group in getattr(interchange, "groups", []) or []:
            app_receiver = (getattr(group, "app_receiver", "") or "").strip()
            if app_receiver and app_receiver not in gs_ids:
                return f"GS03 application receiver {app_receiver} is not one of our identities"
    return ""


def refuse_foreign_receivers(partner: Partner, result: TranslationResult) -> str:
    """Refuse every interchange of ``result`` that is addressed to someone else: the fault goes
    on the interchange (TA1 TA105 009 / CONTRL UCI code 7), its messages are rejected with no
    event, and its acknowledgment is sent in our own name. Returns the reason when every
    interchange was refused ("" otherwise)."""
    ours = receiver_identities(partner)
    reasons = []
    for index, info in enumerate(result.interchanges):
        reason = foreign_receiver(info, ours)
        if not reason:
            continue
        tree = info.tree
        x12 = info.standard == "x12"
        refuse_interchange(result, index, EdiError(
            kind="interchange.unknown_receiver", message=reason, level="interchange",
            standard=info.standard, interchange_control=info.control_number,
            segment_tag="ISA" if x12 else "UNB", element_position=8 if x12 else None,
            bad_value=info.receiver_id, offset=tree.header.offset if tree.header else None))
        reply = _our_identity(ours, info.standard)
        if reply is not None:
            info.reply_as = reply
        reasons.append(reason)
    return "; ".join(reasons) if reasons and len(reasons) == len(result.interchanges) else ""


def _our_identity(ours: dict[str, set[tuple[str, str]]], standard: str) -> tuple[str, str] | None:
    """(qualifier, id) to answer a refused interchange in: our first listed identity."""
    # an entry with a qualifier first: the answer's envelope needs one
    known = sorted(ours.get(standard, set()), key=lambda item: (item[0] == "", item))
    return known[0] if known else None
