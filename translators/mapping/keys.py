"""Business keys of mapped payloads.

The schema registry owns the key definitions (``x-business-key`` in each schema file); asking it
means the EDI path and the API path can never compute different keys for one document.
"""

from __future__ import annotations

from typing import Any

from schemas import default_registry
from schemas.keys import KeyFunction


def business_key(event_type: str, data: dict[str, Any]) -> str:
    return default_registry().business_key_of(event_type, data)


def key_function(event_type: str) -> KeyFunction:
    return default_registry().key_function(event_type)
