"""The hostile inputs of issue 20 through POST /edi: each ends in a final state (processed,
rejected, partial or quarantined) with a JSON error report, never ``received`` for ever, on
SQLite and PostgreSQL. Whatever the translators make of them, an exception is bounded by the
poison handling (a retry, then quarantine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.inbox.poison import RetryPolicy
from gateway.jobs.resume import resume_inbox
from gateway.storage.models import Interchange
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT, auth

ROOT = Path(__file__).resolve().parents[2]
ALPEN = "edg_demo_alpen_gaskets_0000000000000000006"  # EDIFACT D96A, UNB sender 9012345000011
SHIPMENT = (ROOT / "docs" / "examples" / "bolt-supply-856.x12").read_bytes()
FINAL = {"processed", "partial", "rejected", "quarantined"}


def _edifact(*, sender: str = "9012345000011", control: str = "77",
             message_type: str = "ORDERS", dtm: str = "20261122") -> bytes:
    return ("UNA:+.? '"
            f"UNB+UNOC:3+{sender}:14+EDIGATE:ZZZ+261122:1200+{control}'"
            f"UNH+1+{message_type}:D:96A:UN'BGM+220+PO-1+9'DTM+137:{dtm}:102'"
            "NAD+BY+EDIGATE::92'LIN+1++P-0001:BP'QTY+21:10'UNS+S'UNT+8+1'"
            f"UNZ+1+{control}'").encode()


def _x12(text: bytes, old: bytes, new: bytes) -> bytes:
    assert old in text
    return text.replace(old, new, 1)


HOSTILE: dict[str, tuple[str, bytes]] = {
    "non-ascii segment terminator": (BOLT, x12_850(601).replace(b"~", b"\xa7")),
    "non-ascii ISA06": (BOLT, _x12(x12_850(602), b"BOLTSUPPLY     ", b"BOLTSUPPL\xc3\xbf    ")),
    "non-ascii DTM": (BOLT, _x12(x12_850(603), b"CTT*1~", b"DTM*002*2026112\xc3\xa9~CTT*1~")),
    "component separator inside an echoed tag": (BOLT, _x12(x12_850(604), b"CTT*1~",
                                                            b"N>1*XX*Y~CTT*1~")),
    "300-character message type": (BOLT, _x12(x12_850(605), b"ST*850*",
                                              b"ST*" + b"8" * 300 + b"*")),
    "superscript digit in HL01": (BOLT, _x12(SHIPMENT, b"HL*1**S~", "HL*\u00b9**S~".encode())),
    "5000-digit SE01": (BOLT, _x12(SHIPMENT, b"SE*18*4711~", b"SE*" + b"9" * 5000 + b"*4711~")),
    "80-character UNB sender": (ALPEN, _edifact(sender="9" * 80)),
    "40-character control number": (ALPEN, _edifact(control="1" * 40)),
    "300-character EDIFACT message type": (ALPEN, _edifact(control="78",
                                                           message_type="O" * 300)),
    "path in the message type": (ALPEN, _edifact(control="79",
                                                 message_type="../../../../etc/evil")),
    "non-ascii EDIFACT DTM": (ALPEN, _edifact(control="80", dtm="2026112\u00e9")),
}


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = RetryPolicy(max_attempts=2, base_seconds=0.0)
    monkeypatch.setattr(RetryPolicy, "from_settings", classmethod(lambda cls, _s: policy))


async def test_every_hostile_input_ends_in_a_final_state(client, runtime,
                                                         quick_retries) -> None:
    answers: dict[str, tuple[int, dict]] = {}
    for name, (token, body) in HOSTILE.items():
        resp = await client.post("/edi", data=body, headers=auth(token))
        assert resp.content_type in ("application/json", "application/problem+json"), name
        answers[name] = (resp.status, await resp.json())
        assert resp.status in (200, 202, 403, 409, 422), (name, answers[name])
    for _ in range(3):  # at most max_attempts runs of the resume job
        resume_inbox(runtime)
    with runtime.sessions() as s:
        rows = {r.id: r for r in s.scalars(select(Interchange).where(
            Interchange.direction == "in"))}
    for name, (_status, body) in answers.items():
        row = rows[body["interchange_id"]]
        assert row.status in FINAL, (name, row.status, row.status_detail)
        report = row.error_report
        assert isinstance(report, dict) and "report" in report, name
        json.dumps(report)  # plain JSON, nothing else
        if row.status != "processed":
            assert row.status_detail or report["report"].get("errors"), name


async def test_envelope_values_longer_than_the_standard_are_a_validation_error(
        client, runtime) -> None:
    """The same clear answer on SQLite and PostgreSQL (where the columns would refuse)."""
    for body, field in ((_edifact(sender="9" * 80), "sender"),
                        (_edifact(control="1" * 40), "control number")):
        resp = await client.post("/edi", data=body, headers=auth(ALPEN))
        problem = await resp.json()
        assert resp.status == 422, problem
        assert problem["outcome"] == "quarantined"
        assert field in problem["detail"] and "the standard allows at most" in problem["detail"]
        codes = [e["code"] for e in problem["errors"]["errors"]]
        assert "value-too-long" in codes


async def test_a_nul_in_an_order_number_is_refused_at_once(client, runtime) -> None:
    """No poison retries for a value no column can hold: the message's event is invalid."""
    body = x12_850(610).replace(b"BEG*00*SA*PO0000610", b"BEG*00*SA*PO\x00000610")
    resp = await client.post("/edi", data=body, headers=auth(BOLT))
    answer = await resp.json()
    assert resp.status in (200, 422), answer
    assert answer["outcome"] in ("partial", "rejected"), answer
    with runtime.sessions() as s:
        row = s.get(Interchange, answer["interchange_id"])
        assert row.attempts == 1 and row.next_attempt_at is None


def test_columns_hold_what_the_standards_allow() -> None:
    """Every envelope value the standards allow fits its column on PostgreSQL."""
    from gateway.pipeline.limits import BUSINESS_KEY_LIMIT, ENVELOPE_LIMITS
    from gateway.storage.models import Event

    columns = Interchange.__table__.c
    for limits in ENVELOPE_LIMITS.values():
        assert columns.sender_id.type.length >= limits["sender_id"]
        assert columns.receiver_id.type.length >= limits["receiver_id"]
        assert columns.control_number.type.length >= limits["control_number"]
        assert Event.__table__.c.message_ref.type.length >= limits["message"]
    assert Event.__table__.c.business_key.type.length >= BUSINESS_KEY_LIMIT
    assert Event.__table__.c.subject.type.length >= BUSINESS_KEY_LIMIT
