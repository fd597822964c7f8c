"""The receiver check on the real app: an interchange addressed to someone other than us (ISA08
/ UNB receiver not among the identities the partner's profile lists under [[receivers]]) is
refused with a TA1 / CONTRL in our own name and quarantined; one addressed to us is processed.
The check is on by default: every demo partner lists its receivers, and a profile that lists
none is checked against our own configured identity. And one truth end to end: a message whose
event breaks its schema gets no event and a 997 that says rejected."""

from __future__ import annotations

import tomllib

import pytest
from sqlalchemy import func, select

from gateway.partners.profile import load_profiles
from gateway.pipeline import identity
from gateway.storage.models import Event, Interchange
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT, ROOT, add_partner, app_for, auth, make_runtime

ACME = "edg_demo_acme_fasteners_0000000000000001"  # EDIFACT, sender 4012345000009:14


def _with_receivers(partner: str, receivers: list[dict[str, str]]) -> dict:
    with (ROOT / "fixtures" / "partners" / f"{partner}.toml").open("rb") as handle:
        table = tomllib.load(handle)
    table["receivers"] = receivers
    return table


@pytest.fixture(params=["fixtures", "no-receivers-listed"])
def runtime(request, engine, tmp_path):
    """The demo partners as committed (each lists its [[receivers]]), and the same partners
    with no [[receivers]] at all: the check must refuse the same interchanges either way."""
    rt = make_runtime(engine, tmp_path)
    if request.param == "no-receivers-listed":
        add_partner(rt, _with_receivers("bolt-supply", []))
        add_partner(rt, _with_receivers("acme-fasteners", []))
    yield rt
    rt.stop_threads()


def test_every_demo_partner_that_sends_edi_lists_its_receivers() -> None:
    profiles = load_profiles(ROOT / "fixtures" / "partners")
    senders = [p for p in profiles if p.identities]
    assert len(senders) >= 10
    for profile in senders:
        receivers = profile.settings().get("receivers") or []
        standards = {r["standard"] for r in receivers}
        sent = {i.standard for i in profile.identities}
        assert sent <= standards, f"{profile.id} sends {sent} but lists receivers {standards}"
        assert all(r["id"] == "EDIGATE" for r in receivers), profile.id


def test_a_profile_without_receivers_is_checked_against_our_configured_identity() -> None:
    saved = {k: set(v) for k, v in identity.DEFAULT_RECEIVERS.items()}
    try:
        identity.set_default_receivers(("01", "123456789"), ("14", "4000000000001"))
        ours = identity.DEFAULT_RECEIVERS
        assert ("01", "123456789") in ours["x12"] and ("14", "4000000000001") in ours["edifact"]
        x12 = type("Info", (), {"standard": "x12", "receiver_qualifier": "ZZ",
                                "receiver_id": "EDIGATE", "groups": []})()
        assert "EDIGATE" in identity.foreign_receiver(x12, ours)
        x12.receiver_id = "123456789"  # type: ignore[attr-defined]
        assert identity.foreign_receiver(x12, ours) == ""  # the id decides, any qualifier
    finally:
        identity.DEFAULT_RECEIVERS.clear()
        identity.DEFAULT_RECEIVERS.update(saved)


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


async def test_x12_group_addressed_to_another_application_is_refused(client, runtime) -> None:
    data = x12_850(304).replace(b"GS*PO*BOLTSUPPLY*EDIGATE*", b"GS*PO*BOLTSUPPLY*OTHERAPP*")
    resp = await client.post("/edi", data=data, headers=auth(BOLT))
    body = await resp.json()
    if runtime_lists_gs(runtime):
        assert resp.status == 422 and body["outcome"] == "quarantined", body
        assert "GS03" in body["detail"] and "OTHERAPP" in body["detail"]
        assert _events(runtime) == 0
        text = await _ack_text(client, body, BOLT)
        assert "TA1*000000304*" in text and "*R*009" in text
    else:  # GS03 is checked only where the profile lists x12-gs receivers
        assert resp.status == 200 and body["status"] == "processed", body


async def test_edifact_addressed_to_us_without_qualifier_is_processed(client, runtime) -> None:
    data = (b"UNA:+.? 'UNB+UNOC:3+4012345000009:14+EDIGATE+261207:0930+RC78'"
            b"UNH+1+ORDRSP:D:96A:UN'BGM+231+RSP-2+29'DTM+137:20261207:102'RFF+ON:PO-1'"
            b"LIN+1+5+P-1:SA'QTY+21:5:PCE'UNS+S'UNT+8+1'UNZ+1+RC78'")
    resp = await client.post("/edi", data=data, headers=auth(ACME))
    body = await resp.json()
    if runtime_lists_edifact_qualifier(runtime):
        # the profile names qualifier ZZZ: an unqualified receiver is someone else
        assert resp.status == 422 and body["outcome"] == "quarantined", body
    else:
        assert resp.status == 200 and body["outcome"] != "quarantined", body
        assert body["events"], body


def _receivers(runtime, partner_id: str) -> list[dict[str, str]]:
    from gateway.storage.models import Partner

    with runtime.sessions() as s:
        return list((s.get(Partner, partner_id).profile or {}).get("receivers") or [])


def runtime_lists_gs(runtime) -> bool:
    return any(r["standard"] == "x12-gs" for r in _receivers(runtime, "bolt-supply"))


def runtime_lists_edifact_qualifier(runtime) -> bool:
    return any(r.get("qualifier") for r in _receivers(runtime, "acme-fasteners"))
