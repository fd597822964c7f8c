"""Typed application keys shared by the route modules."""

from __future__ import annotations

from aiohttp import web

from gateway.runtime import Runtime
from gateway.web.token_cache import TokenCache

RUNTIME = web.AppKey("runtime", Runtime)
# Verified partner and operator tokens (see token_cache): one per application.
TOKENS = web.AppKey("tokens", TokenCache)
