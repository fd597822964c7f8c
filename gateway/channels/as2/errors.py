"""AS2 failures, each carrying the MDN disposition it must produce (RFC 4130 §7.4.3).

The codec raises these; the inbound handler turns them into a ``failed`` or ``processed/error``
MDN with the modifier named here, so a partner learns exactly what went wrong.
"""

from __future__ import annotations


class As2Error(Exception):
    """Base class: ``modifier`` is the RFC 4130 disposition modifier for the MDN."""

    modifier = "unexpected-processing-error"
    # "error" -> processed/error: <modifier>; "failure" -> failed/failure: <modifier>
    kind = "error"


class MalformedMessage(As2Error):
    """The MIME structure or the CMS encoding cannot be read."""


class DecryptionFailed(As2Error):
    modifier = "decryption-failed"


class AuthenticationFailed(As2Error):
    """The signature does not verify against any registered certificate of the partner."""

    modifier = "authentication-failed"


class IntegrityCheckFailed(As2Error):
    modifier = "integrity-check-failed"


class InsufficientSecurity(As2Error):
    """The partner's profile requires signing or encryption that the message lacks."""

    modifier = "insufficient-message-security"


class DecompressionFailed(As2Error):
    modifier = "decompression-failed"


class UnsupportedAlgorithm(As2Error):
    modifier = "unsupported-algorithm"
    kind = "failure"


class MdnError(Exception):
    """A returned MDN that cannot be read or verified."""
