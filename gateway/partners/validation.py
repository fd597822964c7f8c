"""The one validator of partner profiles: every import path (``partners import``, the admin
API, the demo) runs it before anything is stored.

The shape of a profile (keys, types, ranges, channel names, stages) is data:
``profile.schema.json`` beside this module (JSON Schema 2020-12). What a schema cannot say is
checked here after it: document types must be ones the gateway knows, the ``[reconcile]`` table
is read by the reconciler's own parser (so the import refuses exactly what reconciliation would
refuse later), and AS2 algorithm names are resolved by the AS2 channel.

Every problem is one line naming the file, the key and what is allowed
(``acme.toml: channels.sftp.push_port: expected an integer from 1 to 65535, got 70000``): the
first problem in document order, so the same bad file always gives the same message.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

SCHEMA_FILE = Path(__file__).with_name("profile.schema.json")
WILDCARD = "*"


class ProfileError(ValueError):
    """A partner profile that cannot be imported; the message names the file and key."""


@cache
def profile_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


@cache
def _validator() -> Draft202012Validator:
    schema = profile_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def document_types() -> tuple[str, ...]:
    """The document types the gateway has event schemas for."""
    from schemas.registry import EVENTS_DIR

    return tuple(sorted(p.name for p in EVENTS_DIR.iterdir() if p.is_dir()))


def validate_profile(table: Any, where: str) -> None:
    """Raise :class:`ProfileError` for the first problem of ``table``; return if it is valid."""
    if not isinstance(table, dict):
        raise ProfileError(f"{where}: expected a table of profile keys")
    errors = sorted(_validator().iter_errors(table), key=_order)
    if errors:
        raise ProfileError(f"{where}: {_describe_error(errors[0])}")
    _check_document_types(table, where)
    _check_reconcile(table, where)
    _check_as2(table, where)
    _check_guides(table, where)


def _order(error: ValidationError) -> tuple[list[str], int]:
    # Document order of the failing key; for one key, a missing/unknown key before its values.
    keyword_rank = {"required": 0, "additionalProperties": 1, "type": 2}
    return [str(p) for p in error.absolute_path], keyword_rank.get(str(error.validator), 3)


def key_path(parts: Any) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _resolve(profile_schema()["$defs"][ref.removeprefix("#/$defs/")])
    return schema


def expected(schema: dict[str, Any]) -> str:
    """What a value of ``schema`` looks like, in words."""
    schema = _resolve(schema)
    if "x-hint" in schema:
        return str(schema["x-hint"])
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) if v == "" or "\n" in str(v) else str(v)
                                     for v in schema["enum"])
    kind = schema.get("type")
    bounds = []
    if "minimum" in schema and "maximum" in schema:
        bounds.append(f"from {schema['minimum']} to {schema['maximum']}")
    else:
        if "minimum" in schema:
            bounds.append(f">= {schema['minimum']}")
        if "exclusiveMinimum" in schema:
            bounds.append(f"> {schema['exclusiveMinimum']}")
        if "maximum" in schema:
            bounds.append(f"<= {schema['maximum']}")
    rng = (" " + " and ".join(bounds)) if bounds else ""
    if kind == "integer":
        return f"an integer{rng}"
    if kind == "number":
        return f"a number{rng}"
    if kind == "boolean":
        return "true or false"
    if kind == "string":
        low, high = schema.get("minLength"), schema.get("maxLength")
        if low and high:
            return "one character" if low == high == 1 else \
                f"a string of {low} to {high} characters"
        if low:
            return "a non-empty string" if low == 1 else f"a string of at least {low} characters"
        return f"a string of at most {high} characters" if high else "a string"
    if kind == "array":
        return f"an array of {_plural(expected(schema.get('items', {})))}"
    if kind == "object":
        return "a table"
    return "a value"


def _plural(text: str) -> str:
    for single, many in (("a non-empty string", "non-empty strings"), ("a string", "strings"),
                         ("a table", "tables")):
        if text.startswith(single):
            return many + text[len(single):]
    return text


def _describe_error(error: ValidationError) -> str:
    path = key_path(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        missing = next(k for k in schema.get("required", []) if k not in error.instance)
        return f"{key_path([*error.absolute_path, missing])}: is required"
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in schema.get("properties", {}))
        what = "unknown channel" if path == "channels" else "unknown key"
        return (f"{key_path([*error.absolute_path, extra[0]])}: {what}; allowed: "
                f"{', '.join(allowed) or 'none'}")
    if error.validator == "oneOf":
        return f"{path}: expected {expected(schema)}"
    value = error.instance
    shown = f"{_kind(value)} {value!r}" if error.validator == "type" else repr(value)
    return f"{path or 'profile'}: expected {expected(schema)}, got {shown}"


def _check_document_types(table: dict[str, Any], where: str) -> None:
    known = document_types()
    for doc in table.get("stages", {}):
        if doc != WILDCARD and doc not in known:
            raise ProfileError(f"{where}: stages.{doc}: unknown document type; allowed: "
                               f"{WILDCARD}, {', '.join(known)}")
    types = table.get("reconcile", {}).get("types", {})
    if isinstance(types, dict):
        for doc in types:
            if doc not in known:
                raise ProfileError(f"{where}: reconcile.types.{doc}: unknown document type; "
                                   f"allowed: {', '.join(known)}")


def _check_reconcile(table: dict[str, Any], where: str) -> None:
    if "reconcile" not in table:
        return
    from reconciler import ConfigError, ReconcileConfig

    try:
        ReconcileConfig.from_table(table["reconcile"], where="reconcile")
    except ConfigError as exc:
        raise ProfileError(f"{where}: {exc}") from None


def _check_as2(table: dict[str, Any], where: str) -> None:
    conf = table.get("channels", {}).get("as2")
    if not isinstance(conf, dict):
        return
    from gateway.channels.as2.algorithms import cipher_spec, digest_key
    from gateway.channels.as2.errors import UnsupportedAlgorithm
    from gateway.channels.as2.partner import As2ConfigError, parse_as2_settings

    for key, resolve in (("digest", digest_key), ("cipher", cipher_spec)):
        if key in conf:
            try:
                resolve(conf[key])
            except UnsupportedAlgorithm as exc:
                raise ProfileError(f"{where}: channels.as2.{key}: {exc}") from None
    pid = str(table.get("id", ""))
    try:
        parse_as2_settings(pid, conf)
    except As2ConfigError as exc:
        raise ProfileError(f"{where}: {str(exc).removeprefix(f'{pid}: ')}") from None


def _check_guides(table: dict[str, Any], where: str) -> None:
    from translators import OverlayError, load_overlay

    for i, name in enumerate(table.get("guides", [])):
        try:
            load_overlay(name)
        except OverlayError as exc:
            raise ProfileError(f"{where}: guides[{i}]: {exc}") from None
