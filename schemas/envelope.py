"""The event envelope: CloudEvents 1.0 attributes plus our lineage extension attributes.

Canonical form, as built here::

    {"specversion": "1.0", "id": "...", "source": "/partners/acme/edi",
     "type": "com.edigate.purchase_order",
     "dataschema": "https://edigate.dev/schemas/purchase_order/v1.json",
     "datacontenttype": "application/json", "time": "2025-01-31T08:00:00Z", "subject": "PO-1",
     "partner": "acme", "path": "edi", "interchangeid": "...",
     "interchangecontrol": "000000001", "groupcontrol": "1", "messagecontrol": "0001",
     "data": {...}}

How a producer names the type and version (all accepted, they must agree when several are given):

- ``type``: ``com.edigate.<event_type>``, ``com.edigate.<event_type>.v<N>`` or ``<event_type>``
- ``dataschema``: the schema's ``$id`` (``.../<event_type>/v<N>.json``) or the gateway's
  ``/schemas/<event_type>/<N>`` route
- ``dataschemaversion``: an integer extension attribute (what simple producers send)

Without any version, the latest version is meant. Extension attribute names follow CloudEvents:
lower-case letters and digits only, so the lineage attributes are ``interchangeid`` etc.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas.formats import is_date_time

SPECVERSION = "1.0"
TYPE_PREFIX = "com.edigate."
SCHEMA_BASE = "https://edigate.dev/schemas"
JSON_CONTENT_TYPES = ("application/json", "text/json")

_TYPE = re.compile(r"^(?:com\.edigate\.)?(?P<name>[a-z][a-z0-9_]{0,63})(?:\.v(?P<v>[0-9]{1,6}))?$")
_DATASCHEMA = re.compile(r"/(?P<name>[a-z][a-z0-9_]{0,63})/v?(?P<v>[0-9]{1,6})(?:\.json)?$")
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_CONTEXT = {"id", "source", "specversion", "type", "datacontenttype", "dataschema", "subject",
            "time", "data"}
MAX_ATTRIBUTE_LENGTH = 2048


def schema_uri(event_type: str, version: int) -> str:
    return f"{SCHEMA_BASE}/{event_type}/v{version}.json"


def ce_type(event_type: str) -> str:
    return TYPE_PREFIX + event_type


def _timestamp(time: datetime) -> str:
    if time.tzinfo is None:
        raise ValueError("time must be timezone-aware")
    return time.astimezone(UTC).isoformat().replace("+00:00", "Z")


def edi_event_envelope(*, event_id: str, event_type: str, version: int, partner: str,
                       interchange_id: str, time: datetime, control_numbers: dict[str, Any],
                       subject: str) -> dict[str, Any]:
    """Envelope of an event that came from an EDI interchange (no ``data``; the caller adds it).

    ``control_numbers`` may hold ``interchange``, ``group`` and ``message``; each present one
    becomes an extension attribute (``interchangecontrol``...), as CloudEvents extension values
    must be scalars.
    """
    envelope: dict[str, Any] = {
        "specversion": SPECVERSION, "id": event_id, "source": f"/partners/{partner}/edi",
        "type": ce_type(event_type), "dataschema": schema_uri(event_type, version),
        "datacontenttype": "application/json", "time": _timestamp(time), "subject": subject,
        "partner": partner, "path": "edi", "interchangeid": interchange_id,
    }
    for name in ("interchange", "group", "message"):
        value = control_numbers.get(name)
        if value not in (None, ""):
            envelope[f"{name}control"] = str(value)
    return envelope


def api_event_envelope(*, event_id: str, event_type: str, version: int, partner: str,
                       time: datetime, subject: str,
                       interchange_id: str | None = None) -> dict[str, Any]:
    """Envelope of an event that came through the REST API (``interchange_id``: the stored body)."""
    envelope: dict[str, Any] = {
        "specversion": SPECVERSION, "id": event_id, "source": f"/partners/{partner}",
        "type": ce_type(event_type), "dataschema": schema_uri(event_type, version),
        "datacontenttype": "application/json", "time": _timestamp(time), "subject": subject,
        "partner": partner, "path": "api",
    }
    if interchange_id:
        envelope["interchangeid"] = interchange_id
    return envelope


@dataclass(frozen=True, slots=True)
class TypeReference:
    """What an event says about its type and version (``version`` None: not stated)."""

    event_type: str | None
    version: int | None
    problems: list[dict[str, str]]


def type_reference(event: dict[str, Any]) -> TypeReference:
    """Read type and version from ``type``, ``dataschema`` and ``dataschemaversion``."""
    problems: list[dict[str, str]] = []
    raw_type = event.get("type")
    if not isinstance(raw_type, str) or not raw_type:
        return TypeReference(None, None, [_problem("/type", "required",
                                                   "attribute 'type' is required")])
    match = _TYPE.match(raw_type)
    if match is None:
        return TypeReference(None, None, [_problem(
            "/type", "pattern", f"type {raw_type[:100]!r} is not 'com.edigate.<event_type>' "
                                "or '<event_type>' (optionally with '.v<N>')")])
    name = match["name"]
    versions: list[tuple[str, int]] = []
    if match["v"]:
        versions.append(("/type", int(match["v"])))
    dataschema = event.get("dataschema")
    if dataschema is not None:
        found = _DATASCHEMA.search(dataschema) if isinstance(dataschema, str) else None
        if found is None:
            problems.append(_problem("/dataschema", "format",
                                     "dataschema is not a schema URI of the form "
                                     f"{schema_uri('<event_type>', 1)}"))
        elif found["name"] != name:
            problems.append(_problem("/dataschema", "const",
                                     f"dataschema names {found['name']!r} but type is {name!r}"))
        else:
            versions.append(("/dataschema", int(found["v"])))
    declared = event.get("dataschemaversion")
    if declared is not None:
        if isinstance(declared, bool) or not isinstance(declared, int) or declared < 1:
            problems.append(_problem("/dataschemaversion", "type",
                                     "dataschemaversion must be a positive integer"))
        else:
            versions.append(("/dataschemaversion", declared))
    distinct = {v for _, v in versions}
    if len(distinct) > 1:
        said = ", ".join(f"{where[1:]} says v{v}" for where, v in versions)
        problems.append(_problem(versions[-1][0], "const", f"versions disagree: {said}"))
    version = versions[0][1] if len(distinct) == 1 else None
    return TypeReference(name, version, problems)


def envelope_problems(event: dict[str, Any]) -> list[dict[str, str]]:
    """CloudEvents 1.0 structured-mode rules for the attributes (not the type or the data)."""
    problems: list[dict[str, str]] = []
    for name in ("id", "source", "specversion"):
        value = event.get(name)
        if not isinstance(value, str) or not value:
            problems.append(_problem(f"/{name}", "required",
                                     f"attribute {name!r} is required (a non-empty string)"))
    if isinstance(event.get("specversion"), str) and event["specversion"] and \
            event["specversion"] != SPECVERSION:
        problems.append(_problem("/specversion", "const",
                                 f"specversion {event['specversion'][:20]!r} is not supported; "
                                 f"send {SPECVERSION!r}"))
    time = event.get("time")
    if time is not None and not is_date_time(time):
        problems.append(_problem("/time", "format", "time must be an RFC 3339 timestamp "
                                                    "with a time zone"))
    for name in ("subject", "dataschema"):
        value = event.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            problems.append(_problem(f"/{name}", "type", f"{name} must be a non-empty string"))
    content_type = event.get("datacontenttype")
    if content_type is not None and (
            not isinstance(content_type, str) or not _is_json_media_type(content_type)):
        problems.append(_problem("/datacontenttype", "const",
                                 "datacontenttype must be application/json (or omitted)"))
    if "data_base64" in event:
        problems.append(_problem("/data_base64", "unsupported",
                                 "binary data is not accepted; send the payload as 'data'"))
    if "data" not in event:
        problems.append(_problem("/data", "required", "attribute 'data' is required"))
    elif not isinstance(event["data"], dict):
        problems.append(_problem("/data", "type", "data must be a JSON object"))
    path = event.get("path")
    if path is not None and path not in ("edi", "api"):
        problems.append(_problem("/path", "enum", "path must be 'edi' or 'api'"))
    for name, value in event.items():
        if name in _CONTEXT:
            if isinstance(value, str) and len(value) > MAX_ATTRIBUTE_LENGTH:
                problems.append(_problem(f"/{name}", "maxLength",
                                         f"attribute longer than {MAX_ATTRIBUTE_LENGTH}"))
            continue
        if not _EXTENSION_NAME.match(name):
            problems.append(_problem("/" + name.replace("~", "~0").replace("/", "~1")[:64],
                                     "pattern", "extension attribute names are lower-case "
                                                "letters and digits, at most 20"))
        elif value is not None and not isinstance(value, str | int | bool):
            problems.append(_problem(f"/{name}", "type",
                                     "extension attribute values are strings, integers or "
                                     "booleans"))
        elif isinstance(value, str) and len(value) > MAX_ATTRIBUTE_LENGTH:
            problems.append(_problem(f"/{name}", "maxLength",
                                     f"attribute longer than {MAX_ATTRIBUTE_LENGTH}"))
    return problems


def _is_json_media_type(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    return media in JSON_CONTENT_TYPES or media.endswith("+json")


def _problem(pointer: str, keyword: str, message: str) -> dict[str, str]:
    return {"pointer": pointer, "keyword": keyword, "message": message}
