"""Admin routes: partner profiles and credentials, role-checked and audited."""

from __future__ import annotations

import pytest

from gateway.storage.repositories import audit_trail
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import ADMIN, BOLT, OPERATOR, auth

PROFILE = """
id = "delta-dies"
name = "Delta Dies Ltd"
standard = "x12"
version = "005010"
[[identities]]
standard = "x12"
qualifier = "ZZ"
id = "DELTADIES"
[channels.http]
"""


async def test_admin_creates_a_partner_and_its_token_works(client, runtime) -> None:
    put = await client.put("/api/v1/partners/delta-dies", data=PROFILE,
                           headers={**auth(ADMIN), "Content-Type": "application/toml"})
    assert put.status == 201, await put.text()
    issued = await client.post("/api/v1/partners/delta-dies/tokens", json={"name": "erp"},
                               headers=auth(ADMIN))
    token = (await issued.json())["token"]
    resp = await client.post("/edi", data=x12_850(5, sender="DELTADIES"), headers=auth(token))
    assert resp.status in (200, 422)  # accepted for processing as delta-dies
    listed = await (await client.get("/api/v1/partners", headers=auth(OPERATOR))).json()
    assert "delta-dies" in {p["id"] for p in listed["partners"]}
    with runtime.sessions() as s:
        actions = [e.action for e in audit_trail(s, "partner", "delta-dies")]
    assert "token.create" in actions


async def test_revoked_tokens_stop_working(client) -> None:
    await client.put("/api/v1/partners/delta-dies", data=PROFILE, headers=auth(ADMIN))
    issued = await (await client.post("/api/v1/partners/delta-dies/tokens",
                                      headers=auth(ADMIN))).json()
    # Used once first, so the token sits in this process's cache of verified tokens.
    used = await client.get("/api/v1/events", headers=auth(issued["token"]))
    assert used.status == 200
    revoked = await client.delete(f"/api/v1/credentials/{issued['credential_id']}",
                                  headers=auth(ADMIN))
    assert revoked.status == 200
    resp = await client.post("/edi", data=x12_850(6, sender="DELTADIES"),
                             headers=auth(issued["token"]))
    assert resp.status == 401


@pytest.mark.parametrize("token", [OPERATOR, BOLT])
async def test_only_admins_manage_partners(client, token) -> None:
    resp = await client.put("/api/v1/partners/delta-dies", data=PROFILE, headers=auth(token))
    assert resp.status == 403


async def test_an_invalid_profile_names_the_key(client) -> None:
    bad = PROFILE.replace('standard = "x12"\nversion', 'standard = "x13"\nversion')
    resp = await client.put("/api/v1/partners/delta-dies", data=bad, headers=auth(ADMIN))
    body = await resp.json()
    assert resp.status == 422 and "standard" in body["detail"]
