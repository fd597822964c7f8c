"""Business keys of mapped payloads.

The schema registry owns the key definitions (``x-business-key`` in each schema file); asking it
means the EDI path and the API path can never compute different keys for one document.
"""

from __future__ import annotations

from schemas import default_registry
from schemas.keys import KeyFunction


def key_function(event_type: str) -> KeyFunction:
    """``business_key(data)`` for payloads of one event type."""
    return default_registry().key_function(event_type)
