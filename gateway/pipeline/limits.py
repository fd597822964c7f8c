"""What partner data may be before it reaches a column or a report.

Envelope values longer than their standard allows, or holding a NUL, are a validation error
before any insert (the same on SQLite, which would store them, and PostgreSQL, which would
refuse the insert); a report lists a bounded number of errors however many a hostile document
carries.
"""

from __future__ import annotations

from typing import Any

from translators import TranslationResult
from translators.result import is_error

# What the standards allow in the envelope values we store in columns (UN/EDIFACT ISO 9735:
# UNB 0004/0010 an..35, 0020/0048/0062 an..14; X12: ISA06/ISA08 15, ISA13/GS06 9, ST02 4..9).
# The columns hold at least this much; a longer value is a validation error before any insert,
# the same on SQLite (which would store it) and PostgreSQL (which would refuse the insert).
ENVELOPE_LIMITS: dict[str, dict[str, int]] = {
    "edifact": {"sender_id": 35, "receiver_id": 35, "control_number": 14, "group": 14,
                "message": 14},
    "x12": {"sender_id": 15, "receiver_id": 15, "control_number": 9, "group": 9, "message": 9},
}
# Columns an event fills from partner data (Event.business_key / subject).
BUSINESS_KEY_LIMIT = 200


def envelope_faults(result: TranslationResult) -> list[dict[str, Any]]:
    """Envelope values longer than their standard allows, as error-report entries."""
    found: list[dict[str, Any]] = []

    def check(standard: str, field_name: str, value: object, where: str) -> None:
        limit = ENVELOPE_LIMITS.get(standard, ENVELOPE_LIMITS["edifact"])[field_name]
        text = "" if value is None else str(value)
        if len(text) > limit:
            found.append({"code": "value-too-long", "level": "interchange",
                          "severity": "error", "element": field_name,
                          "message": f"{where} is {len(text)} characters; the standard allows "
                                     f"at most {limit}"})
        elif "\x00" in text:
            # No character set of either standard has NUL, and PostgreSQL refuses it in text.
            found.append({"code": "value-not-allowed", "level": "interchange",
                          "severity": "error", "element": field_name,
                          "message": f"{where} contains a NUL character"})

    for ix in result.interchanges:
        check(ix.standard, "sender_id", ix.sender_id, "the interchange sender id")
        check(ix.standard, "receiver_id", ix.receiver_id, "the interchange receiver id")
        check(ix.standard, "control_number", ix.control_number,
              "the interchange control number")
    standards = [ix.standard for ix in result.interchanges]
    for message in result.messages:
        standard = standards[message.interchange_index] if message.interchange_index < len(
            standards) else "edifact"
        check(standard, "message", message.message_control, "a message control number")
        check(standard, "group", message.group_control, "a group control number")
    return found


# Errors kept in a stored report and in the answer. A hostile document can carry a fault per
# segment (30,000 of them): reporting each one made a 25 MB report that took half a minute
# to build, was written to the database and encoded on the event loop. Past this many, the
# report keeps the first ones (by position) and counts the rest.
MAX_REPORTED_ERRORS = 500
MAX_ERRORS_PER_ENTRY = 100


def bounded_error_report(result: TranslationResult) -> dict[str, Any]:
    """``result.error_report()``, with at most :data:`MAX_REPORTED_ERRORS` errors listed."""
    errors = result.all_errors
    if len(errors) <= MAX_REPORTED_ERRORS:
        return result.error_report()

    def listed(found: list[Any], limit: int = MAX_ERRORS_PER_ENTRY) -> list[dict[str, Any]]:
        return [e.to_json() for e in found[:limit]]

    first = sorted((e for e in errors), key=lambda e: (e.offset is None, e.offset or 0))
    serious = sum(1 for e in errors if is_error(e))
    return {
        "ok": False,
        "error_count": serious,
        "warning_count": len(errors) - serious,
        "errors": listed(first, MAX_REPORTED_ERRORS),
        "errors_not_listed": len(errors) - MAX_REPORTED_ERRORS,
        "interchanges": [
            {"standard": ix.standard, "control_number": ix.control_number,
             "sender_id": ix.sender_id, "receiver_id": ix.receiver_id,
             "errors": listed(ix.errors),
             "groups": [{"control_number": g.control, "functional_id": g.functional_id,
                         "version": g.version, "errors": listed(g.errors)}
                        for g in ix.groups]}
            for ix in result.interchanges[:MAX_ERRORS_PER_ENTRY]
        ],
        "messages": [
            {"message_type": m.message_type, "message_control": m.message_control,
             "group_control": m.group_control, "interchange_control": m.interchange_control,
             "status": m.status, "errors": listed(m.errors)}
            for m in result.messages
        ],
    }


def fit(value: object, limit: int) -> str:
    return ("" if value is None else str(value))[:limit]
