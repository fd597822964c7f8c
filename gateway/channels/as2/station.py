"""Our own AS2 identity: the name partners address (AS2-To) and where async MDNs reach us.

Read from the settings ``identity.as2_id`` / ``identity.as2_mdn_url`` when the configuration
declares them, with working defaults so a fresh install answers AS2 at once.
"""

from __future__ import annotations

from gateway.config import Settings

DEFAULT_AS2_ID = "EDIGATE"


def local_as2_id(settings: Settings) -> str:
    return str(getattr(settings, "as2_id", "") or DEFAULT_AS2_ID)


def local_mdn_url(settings: Settings) -> str:
    """Public URL of ``POST /as2/mdn``; empty means async MDNs cannot be requested."""
    configured = str(getattr(settings, "as2_mdn_url", "") or "")
    if configured:
        return configured
    scheme = "https" if settings.tls_cert else "http"
    return f"{scheme}://{settings.listen}/as2/mdn"


def message_domain(settings: Settings) -> str:
    """Right-hand side of our Message-IDs: our AS2 name, never ``localhost``."""
    name = "".join(c for c in local_as2_id(settings).lower() if c.isalnum() or c in "-.")
    return f"{name or 'edigate'}.as2"
