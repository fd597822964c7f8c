"""The receiver check on the real app: an interchange addressed to someone other than us (ISA08
/ UNB receiver not among the identities the partner's profile lists under [[receivers]]) is
refused with a TA1 / CONTRL in our own name and quarantined; one addressed to us is processed.
And one truth end to end: a message whose event breaks its schema gets no event and a 997 that
says rejected."""

from __future__ import annotations

import tomllib

import pytest
from sqlalchemy import func, select

from gateway.storage.models import Event, Interchange
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT, ROOT, add_partner, app_for, auth, make_runtime

ACME = "edg_demo_acme_fasteners_0000000000000001"  # EDIFACT, sender 4012345000009:14


def _with_receivers(partner: str, receivers: list[dict[str, str]]) -> dict:
    with (ROOT / "fixtures" / "partners" / f"{partner}.toml").open("rb") as handle:
        table = tomllib.load(handle)
    table["receivers"] = receivers
    return table


@pytest.fixture
def runtime(engine, tmp_path):
    rt = make_runtime(engine, tmp_path)
    add_partner(rt, _with_receivers("bolt-supply", [
        {"standard": "x12", "qualifier": "ZZ", "id": "EDIGATE"}]))
    add_partner(rt, _with_receivers("acme-fasteners", [
        {"standard": "edifact", "qualifier": "ZZZ", "id": "EDIGATE"}]))
    yield rt
    rt.stop_threads()


@pytest.fixture
async def client(aiohttp_client, runtime):
    return await aiohttp_client(app_for(runtime))


def _events(runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(Event)) or 0


async def _ack_text(client, body, token) -> str:
    ack = await client.get(f"/interchanges/{body['interchange_id']}/ack", headers=auth(token))
    assert ack.status == 200
    return (await ack.read()).decode()


async def test_x12_addressed_to_someone_else_is_refused_and_quarantined(client, runtime) -> None:
    resp = await client.post("/edi", data=x12_850(301, receiver="OTHERBUYER"), headers=auth(BOLT))
    body = await resp.json()
    assert resp.status == 422, body
    assert body["outcome"] == "quarantined"
    assert "OTHERBUYER" in body["detail"] and "not one of our identities" in body["detail"]
    assert body["events"] == [] and _events(runtime) == 0
    text = await _ack_text(client, body, BOLT)
    assert "TA1*000000301*" in text and "*R*009" in text
    assert "ST*997" not in text
    assert "*ZZ*EDIGATE        *ZZ*BOLTSUPPLY     *" in text  # answered in our own name
    with runtime.sessions() as s:
        row = s.get(Interchange, body["interchange_id"])
        assert row.status == "quarantined" and row.receiver_id == "OTHERBUYER"


async def test_x12_addressed_to_us_is_processed(client, runtime) -> None:
    resp = await client.post("/edi", data=x12_850(302), headers=auth(BOLT))
    body = await resp.json()
    assert resp.status == 200 and body["status"] == "processed", body
    assert len(body["events"]) == 1


async def test_edifact_addressed_to_someone_else_gets_contrl_code_7(client, runtime) -> None:
    data = (b"UNA:+.? 'UNB+UNOC:3+4012345000009:14+OTHERBUYER:ZZZ+261207:0930+RC77'"
            b"UNH+1+ORDRSP:D:96A:UN'BGM+231+RSP-1+29'DTM+137:20261207:102'RFF+ON:PO-1'"
            b"LIN+1+5+P-1:SA'QTY+21:5:PCE'UNS+S'UNT+8+1'UNZ+1+RC77'")
    resp = await client.post("/edi", data=data, headers=auth(ACME))
    body = await resp.json()
    assert resp.status == 422 and body["outcome"] == "quarantined", body
    assert _events(runtime) == 0
    text = await _ack_text(client, body, ACME)
    assert "UCI+RC77+4012345000009:14+OTHERBUYER:ZZZ+4+7+UNB" in text
    assert "UNB+UNOC:3+EDIGATE:ZZZ+4012345000009:14+" in text


async def test_a_message_without_a_valid_event_is_rejected_in_its_997(client, runtime) -> None:
    data = x12_850(303).replace(b"PO1*1*100*EA*2.5**", b"PO1*1*100*EA*-2.5**")
    resp = await client.post("/edi", data=data, headers=auth(BOLT))
    body = await resp.json()
    assert resp.status == 422 and body["outcome"] == "rejected", body
    assert body["events"] == [] and _events(runtime) == 0
    assert body["messages"][0]["status"] == "rejected"
    kinds = [e["kind"] for e in body["errors"]["errors"]]
    assert kinds == ["event.invalid"]
    text = await _ack_text(client, body, BOLT)
    assert "AK5*R*5" in text and "AK9*R*1*1*0" in text
