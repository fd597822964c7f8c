"""JSON Schema validation with errors that name the exact JSON pointer.

An error is a plain dict, ready for an API response::

    {"pointer": "/lines/0/quantity", "message": "-1 is less than the minimum of 0",
     "keyword": "minimum"}

Speed: ``jsonschema_rs`` (Rust, an install requirement; optional at import) answers the
common question "is this valid?" about 30x faster; only an invalid payload goes through
``jsonschema`` to get the detailed errors. Both use the same format functions, and the Python
validator stays the reference: the fast path can only say "valid", never produce errors.

``required`` and ``additionalProperties`` errors point at the missing or unexpected property
itself rather than at its parent object, and a ``[schema, null]`` choice reports the reason the
schema branch failed instead of "is not valid under any of the given schemas".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from schemas.formats import FORMATS, format_checker

try:  # optional accelerator; the behaviour is the same without it, only slower
    import jsonschema_rs
except ImportError:  # pragma: no cover - depends on the environment
    jsonschema_rs = None  # type: ignore[assignment]

MAX_ERRORS = 100
ValidationProblem = dict[str, str]


def compile_validator(schema: dict[str, Any]) -> Validator:
    """Compile once; checking the schema itself happens here, so a bad file fails at load."""
    cls = validator_for(schema, default=Draft202012Validator)
    if not _meta_valid(schema):
        cls.check_schema(schema)  # the reference check, for its precise message
    return cls(schema, format_checker=format_checker())


def _meta_valid(schema: dict[str, Any]) -> bool:
    """The quick answer to "is this a valid schema?" (the pure-Python meta check costs a
    noticeable part of every process start); False also when it cannot tell."""
    if jsonschema_rs is None or not hasattr(jsonschema_rs, "meta"):
        return False
    try:
        return bool(jsonschema_rs.meta.is_valid(schema))
    except Exception:  # an unknown draft, a construct it does not know: ask the reference
        return False


class PayloadValidator:
    """A compiled schema: a fast yes/no path (if available) and the reference error reporter."""

    def __init__(self, schema: dict[str, Any], *, accelerate: bool = True) -> None:
        self.reference = compile_validator(schema)
        self.fast: Any = None
        if accelerate and jsonschema_rs is not None:
            try:
                self.fast = jsonschema_rs.validator_for(schema, formats=FORMATS,
                                                        validate_formats=True)
            except (ValueError, TypeError):  # a construct it does not support: stay exact
                self.fast = None

    def errors(self, instance: Any, prefix: str = "") -> list[ValidationProblem]:
        if self.fast is not None:
            try:
                if self.fast.is_valid(instance):
                    return []
            except (ValueError, TypeError, OverflowError, RecursionError):
                pass  # e.g. a value that is not JSON-like: let the reference decide
        return problems(self.reference, instance, prefix)


def pointer_of(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def problems(validator: Validator, instance: Any, prefix: str = "") -> list[ValidationProblem]:
    """Every validation error (at most ``MAX_ERRORS``), sorted by pointer."""
    found: list[ValidationProblem] = []
    for error in validator.iter_errors(instance):
        found.extend(_describe(error, prefix))
        if len(found) >= MAX_ERRORS:
            break
    found.sort(key=lambda p: p["pointer"])
    if len(found) >= MAX_ERRORS:
        found = found[:MAX_ERRORS]
        found.append({"pointer": prefix or "/", "keyword": "maxErrors",
                      "message": f"more than {MAX_ERRORS} errors; the rest are not listed"})
    return found


def _describe(error: ValidationError, prefix: str) -> list[ValidationProblem]:
    where = prefix + pointer_of(error.absolute_path)
    keyword = str(error.validator)
    if keyword in ("anyOf", "oneOf") and error.context:
        relevant = [e for e in error.context if e.validator != "type"
                    or e.validator_value != "null"]
        if relevant:
            return _describe(best_match(relevant), prefix)
    if keyword == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        named = next((n for n in missing if repr(n) in error.message), None)
        if named is not None:
            return [{"pointer": f"{where}{pointer_of([named])}", "keyword": keyword,
                     "message": f"required property {named!r} is missing"}]
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        declared = set(error.schema.get("properties", {}))
        extra = [name for name in error.instance if name not in declared]
        if extra:
            return [{"pointer": f"{where}{pointer_of([name])}", "keyword": keyword,
                     "message": f"unexpected property {name!r} (not in the schema)"}
                    for name in extra]
    if keyword == "format":
        return [{"pointer": where, "keyword": keyword,
                 "message": f"{error.instance!r} is not a valid {error.validator_value}"}]
    return [{"pointer": where, "keyword": keyword, "message": _short_message(error)}]


def _short_message(error: ValidationError) -> str:
    """jsonschema repeats the whole instance in some messages; a hostile body must not echo."""
    message = error.message
    return message if len(message) <= 300 else message[:297] + "..."
