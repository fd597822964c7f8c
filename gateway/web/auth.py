"""Who is calling: a partner (its API token) or an operator (token with a role).

Partner credentials never carry a role, so they can never open an operator route; operator
roles are ordered viewer < operator < admin. Tokens come as ``Authorization: Bearer …``; the
dashboard uses the same tokens through a session cookie.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from gateway.storage.repositories import as_utc, authenticate_token
from gateway.web.keys import RUNTIME, TOKENS
from gateway.web.problems import Problem
from gateway.web.token_cache import TokenCache

ROLES = ("viewer", "operator", "admin")
SESSION_COOKIE = "edigate_session"


@dataclass(frozen=True)
class Principal:
    partner_id: str | None
    role: str | None
    credential_id: int
    name: str

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        if self.partner_id:
            return f"partner:{self.partner_id}"
        return f"{self.role}:{self.name or self.credential_id}"

    def has_role(self, minimum: str) -> bool:
        return self.role is not None and ROLES.index(self.role) >= ROLES.index(minimum)


# Looked up once per request (None: anonymous); every later check reuses it.
PRINCIPAL = web.RequestKey("principal", Principal | None)  # type: ignore[arg-type]




def _token_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    return cookie or None


async def principal_of(request: web.Request) -> Principal | None:
    if PRINCIPAL in request:
        return request[PRINCIPAL]
    token = _token_of(request)
    principal = None
    if token:
        # An application assembled without create_app (a test's) simply looks up every time.
        cache = request.app.get(TOKENS) or TokenCache(0)
        principal = cache.get(token)
        if principal is None:
            # Concurrent requests with the same token share one look-up: when the cache
            # entry of a busy partner expires, its whole burst of requests misses at once.
            key = cache.key(token)
            pending = cache.inflight.get(key)
            if pending is not None:
                principal = await asyncio.shield(pending)
                request[PRINCIPAL] = principal
                return principal
            runtime = request.app[RUNTIME]

            def lookup() -> Principal | None:
                now = datetime.now(UTC)
                with runtime.reads() as session:
                    cred = authenticate_token(session, token, now=now)
                    if cred is None:
                        return None
                    found = Principal(cred.partner_id, cred.role, cred.id, cred.name)
                    valid_for = (None if cred.not_after is None else
                                 (as_utc(cred.not_after) - now).total_seconds())
                    cache.put(token, cred.id, found, valid_for=valid_for)
                    return found

            future = asyncio.ensure_future(runtime.run(lookup))
            cache.inflight[key] = future
            future.add_done_callback(lambda _: cache.inflight.pop(key, None))
            principal = await asyncio.shield(future)
    request[PRINCIPAL] = principal
    return principal


async def require_partner(request: web.Request) -> Principal:
    principal = await principal_of(request)
    if principal is None:
        raise _unauthorized()
    if principal.partner_id is None:
        raise Problem(403, "partner-only", "Forbidden",
                      "this route takes a partner token; operator tokens cannot submit documents")
    return principal


async def require_role(request: web.Request, minimum: str) -> Principal:
    principal = await principal_of(request)
    if principal is None:
        raise _unauthorized()
    if not principal.has_role(minimum):
        raise Problem(403, "insufficient-role", "Forbidden",
                      f"this route needs the {minimum} role")
    return principal


async def require_any(request: web.Request) -> Principal:
    """A partner (sees only its own data) or an operator with at least the viewer role."""
    principal = await principal_of(request)
    if principal is None:
        raise _unauthorized()
    return principal


def visible_partner(principal: Principal, requested: str | None) -> str | None:
    """The partner filter a read must apply: a partner always sees only itself."""
    if principal.partner_id is None:
        return requested
    if requested not in (None, principal.partner_id):
        raise Problem(403, "other-partner", "Forbidden",
                      "a partner can read only its own data")
    return principal.partner_id


def _unauthorized() -> Problem:
    problem = Problem(401, "unauthorized", "Unauthorized",
                      "send 'Authorization: Bearer <token>' with a valid API token")
    problem.headers["WWW-Authenticate"] = 'Bearer realm="edigate"'
    return problem
