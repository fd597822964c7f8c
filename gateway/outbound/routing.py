"""Which channels a document goes out on, decided by the partner's strangler stage.

``edi`` -> the partner's EDI channel; ``api`` -> its signed webhook; ``dual`` -> both, carrying
the same business id so the partner's systems can de-duplicate.
"""

from __future__ import annotations

from typing import Any

from gateway.domain.states import Stage

# Preference when a partner has several EDI channels: AS2 gives a signed receipt (MDN), a hosted
# SFTP mailbox is pulled by the partner, a remote SFTP server is pushed to, HTTP last.
EDI_CHANNELS = ("as2", "sftp_push", "sftp", "http")
EDI_KINDS = {"as2", "sftp_push", "sftp", "http"}


class RoutingError(ValueError):
    """The partner's profile gives no way to deliver this document."""


def edi_channel(profile: dict[str, Any]) -> str:
    channels = profile.get("channels", {})
    if "as2" in channels and channels["as2"].get("url"):
        return "as2"
    sftp = channels.get("sftp", {})
    if sftp.get("push_host"):
        return "sftp_push"
    if "sftp" in channels:
        return "sftp"
    if "http" in channels:
        # An HTTP EDI partner either gives us a URL to POST to, or picks its documents up from
        # GET /api/v1/outbound (channel "http" with no url).
        return "http"
    raise RoutingError("the partner profile has no EDI channel (as2 with url, sftp or http)")


def routes_for(profile: dict[str, Any], stage: str) -> list[str]:
    """Delivery channels for one document, in order."""
    if stage == Stage.EDI:
        return [edi_channel(profile)]
    webhook = profile.get("channels", {}).get("webhook", {})
    if stage == Stage.API:
        if not webhook.get("url"):
            raise RoutingError("stage is 'api' but the partner profile has no channels.webhook.url")
        return ["webhook"]
    if stage == Stage.DUAL:
        routes = [edi_channel(profile)]
        if webhook.get("url"):
            routes.append("webhook")
        return routes
    raise RoutingError(f"unknown stage {stage!r}")
