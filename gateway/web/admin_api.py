"""Administration over HTTP (admin role): partner profiles and credentials, every change audited.

Partner profiles are the same TOML documents as under ``fixtures/partners/`` (or their JSON
equivalent), validated completely before anything is stored. New tokens are returned once and
only their SHA-256 is kept.
"""

from __future__ import annotations

import secrets
import tomllib
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from gateway.partners.profile import ProfileError, parse_profile
from gateway.storage.models import Credential, Partner
from gateway.storage.repositories import append_audit, issue_token, list_partners, upsert_partner
from gateway.web.auth import require_role
from gateway.web.keys import RUNTIME, TOKENS
from gateway.web.openapi import json_response, path_param, problem_responses
from gateway.web.problems import Problem

routes = web.RouteTableDef()


def partner_json(p: Partner) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "standard": p.standard, "version": p.version,
            "active": p.active, "channels": sorted(p.profile.get("channels", {})),
            "identities": [{"standard": i.standard, "qualifier": i.qualifier,
                            "id": i.identifier} for i in p.identities],
            "stages": {s.document_type: s.stage for s in p.stages}}


@routes.get("/api/v1/partners")
async def partners(request: web.Request) -> web.Response:
    await require_role(request, "viewer")
    runtime = request.app[RUNTIME]

    def load() -> list[dict[str, Any]]:
        with runtime.sessions() as s:
            return [partner_json(p) for p in list_partners(s)]

    return web.json_response({"partners": await runtime.run(load)})


@routes.put("/api/v1/partners/{id}")
async def put_partner(request: web.Request) -> web.Response:
    principal = await require_role(request, "admin")
    runtime = request.app[RUNTIME]
    ident = request.match_info["id"]
    raw = await request.read()
    try:
        if request.content_type == "application/json":
            table = await request.json()
        else:
            table = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, "invalid-profile", "Invalid profile",
                      f"send the partner profile as TOML or JSON: {exc}") from None
    if not isinstance(table, dict):
        raise Problem(400, "invalid-profile", "Invalid profile", "expected a table/object")
    table.setdefault("id", ident)
    try:
        profile = parse_profile(table, where=f"partner {ident}")
    except ProfileError as exc:
        raise Problem(422, "invalid-profile", "Invalid profile", str(exc)) from None
    if profile.id != ident:
        raise Problem(400, "id-mismatch", "Id mismatch",
                      f"profile id {profile.id!r} does not match the URL's {ident!r}")
    now = datetime.now(UTC)

    def act() -> tuple[dict[str, Any], bool]:
        with runtime.sessions.begin() as s:
            partner, created = upsert_partner(s, profile, now=now, actor=principal.actor)
            s.flush()
            return partner_json(partner), created

    body, created = await runtime.run(act)
    return web.json_response(body, status=201 if created else 200)


@routes.post("/api/v1/partners/{id}/tokens")
async def new_token(request: web.Request) -> web.Response:
    principal = await require_role(request, "admin")
    runtime = request.app[RUNTIME]
    ident = request.match_info["id"]
    try:
        body = await request.json()
    except ValueError:
        body = {}
    name = str((body or {}).get("name", "api")) if isinstance(body, dict) else "api"
    token = "edg_" + secrets.token_urlsafe(30)
    now = datetime.now(UTC)

    def act() -> int | None:
        with runtime.sessions.begin() as s:
            if s.get(Partner, ident) is None:
                return None
            cred = issue_token(s, token=token, now=now, partner_id=ident, role=None, name=name)
            append_audit(s, at=now, actor=principal.actor, action="token.create",
                         subject_type="partner", subject_id=ident,
                         details={"credential": cred.id, "name": name})
            return cred.id

    cred_id = await runtime.run(act)
    if cred_id is None:
        raise Problem(404, "not-found", "Not Found", f"no partner {ident}")
    return web.json_response({"credential_id": cred_id, "token": token,
                              "note": "shown once; only its SHA-256 is stored"}, status=201)


MAX_ID = 2**63 - 1


@routes.delete("/api/v1/credentials/{id}")
async def revoke(request: web.Request) -> web.Response:
    principal = await require_role(request, "admin")
    runtime = request.app[RUNTIME]
    try:
        ident = int(request.match_info["id"])
    except ValueError:
        raise Problem(400, "bad-id", "Bad id", "credential ids are integers") from None
    if not 1 <= ident <= MAX_ID:  # beyond any stored id (and a 64-bit column)
        raise Problem(404, "not-found", "Not Found", f"no active credential {ident}")
    now = datetime.now(UTC)

    def act() -> bool:
        with runtime.sessions.begin() as s:
            cred = s.scalars(select(Credential).where(Credential.id == ident)).first()
            if cred is None or cred.revoked_at is not None:
                return False
            cred.revoked_at = now
            append_audit(s, at=now, actor=principal.actor, action="credential.revoke",
                         subject_type="credential", subject_id=str(ident),
                         details={"partner": cred.partner_id, "role": cred.role})
            return True

    if not await runtime.run(act):
        raise Problem(404, "not-found", "Not Found", f"no active credential {ident}")
    request.app[TOKENS].forget(ident)
    return web.json_response({"credential_id": ident, "revoked": True})


OPENAPI = {
    "/api/v1/partners": {"get": {
        "summary": "The partner registry (viewer)", "operationId": "listPartners",
        "responses": {"200": json_response("partners"), **problem_responses(401, 403)}}},
    "/api/v1/partners/{id}": {"put": {
        "summary": "Create or update a partner from its TOML/JSON profile (admin)",
        "operationId": "putPartner", "parameters": [path_param(
            "id", "partner id", {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"})],
        "requestBody": {"required": True, "content": {
            "application/toml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}}}},
        "responses": {"200": json_response("updated"), "201": json_response("created"),
                      **problem_responses(400, 401, 403, 422)}}},
    "/api/v1/partners/{id}/tokens": {"post": {
        "summary": "Issue a new API token for a partner (admin; shown once)",
        "operationId": "createPartnerToken", "parameters": [path_param("id", "partner id")],
        "responses": {"201": json_response("the new token"),
                      **problem_responses(401, 403, 404)}}},
    "/api/v1/credentials/{id}": {"delete": {
        "summary": "Revoke a credential (admin)", "operationId": "revokeCredential",
        "parameters": [path_param("id", "credential id",
                                  {"type": "integer", "minimum": 1, "maximum": MAX_ID})],
        "responses": {"200": json_response("revoked"),
                      **problem_responses(400, 401, 403, 404)}}},
}
