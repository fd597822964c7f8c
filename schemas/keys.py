"""Business keys computed from data: each schema file declares its key, no code per type.

``x-business-key`` in a schema file::

    {"separator": "/", "alternatives": [["/report_number"],
                                        ["/report_date", {"find": "/parties",
                                                          "where": {"role": ["supplier"]},
                                                          "take": "/id"}]]}

Each alternative is a list of parts; the first alternative whose parts all have a value wins,
otherwise the last one is used with the missing parts empty (a key is always a string, so two
incomplete events still pair predictably). A part is a JSON pointer, or a ``find`` that takes a
value from the first array element matching ``where``.

``x-line-key`` names a list and the parts of each element's key; a part starting with ``0/`` is
a relative JSON pointer into the element, any other part is absolute from the payload root.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from schemas.errors import SchemaDefinitionError

KeyPart = str | dict[str, Any]
_MISSING = object()


@lru_cache(maxsize=4096)
def _tokens(pointer: str) -> tuple[str, ...]:
    # A schema declares a handful of pointers and every event resolves them: split them once.
    if not pointer.startswith("/"):
        raise SchemaDefinitionError(f"JSON pointer {pointer!r} must start with '/'")
    return tuple(raw.replace("~1", "/").replace("~0", "~") for raw in pointer[1:].split("/"))


def resolve_pointer(document: Any, pointer: str) -> Any:
    """Value at an RFC 6901 JSON pointer, or ``_MISSING``."""
    if pointer == "":
        return document
    return _resolve(document, _tokens(pointer))


def _resolve(document: Any, tokens: tuple[str, ...]) -> Any:
    current = document
    for token in tokens:
        if isinstance(current, dict):
            if token not in current:
                return _MISSING
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return _MISSING
    return current


def _text(value: Any) -> str | None:
    if value is _MISSING or value is None or value == "" or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _part_value(part: KeyPart, root: Any, element: Any = None) -> str | None:
    if isinstance(part, str):
        if part.startswith("0/") or part == "0":
            return _text(resolve_pointer(element, part[1:]))
        return _text(resolve_pointer(root, part))
    rows = resolve_pointer(root, part["find"])
    if not isinstance(rows, list):
        return None
    wanted: dict[str, list[Any]] = part.get("where", {})
    for row in rows:
        if isinstance(row, dict) and all(row.get(k) in v for k, v in wanted.items()):
            value = _text(resolve_pointer(row, part["take"]))
            if value is not None:
                return value
    return None


def check_key_spec(spec: Any, where: str) -> None:
    """Refuse a malformed key declaration when the registry loads, not when a key is needed."""
    if not isinstance(spec, dict) or not isinstance(spec.get("alternatives"), list) \
            or not spec["alternatives"]:
        raise SchemaDefinitionError(f"{where}: x-business-key needs a non-empty 'alternatives'")
    for alternative in spec["alternatives"]:
        if not isinstance(alternative, list) or not alternative:
            raise SchemaDefinitionError(f"{where}: each key alternative is a non-empty list")
        for part in alternative:
            _check_part(part, where)


def check_line_key_spec(spec: Any, where: str) -> None:
    if not isinstance(spec, dict) or not isinstance(spec.get("list"), str) \
            or not isinstance(spec.get("parts"), list) or not spec["parts"]:
        raise SchemaDefinitionError(f"{where}: x-line-key needs 'list' and non-empty 'parts'")
    for part in spec["parts"]:
        _check_part(part, where)


def _check_part(part: Any, where: str) -> None:
    if isinstance(part, str):
        if not (part.startswith("/") or part.startswith("0/")):
            raise SchemaDefinitionError(f"{where}: key part {part!r} is not a JSON pointer")
        return
    if not isinstance(part, dict) or not {"find", "take"} <= set(part) \
            or not isinstance(part.get("where", {}), dict):
        raise SchemaDefinitionError(f"{where}: key part {part!r} needs 'find' and 'take'")


def business_key(spec: dict[str, Any], data: Any) -> str:
    return key_function(spec)(data)


KeyFunction = Callable[[Any], str]


def key_function(spec: dict[str, Any]) -> KeyFunction:
    """``business_key(spec, ·)`` with the declaration worked out once: every mapped message
    asks for its key, and reading the declaration again each time cost as much as the rest."""
    separator = str(spec.get("separator", "/"))
    alternatives = tuple(tuple(_part_reader(part) for part in alternative)
                         for alternative in spec["alternatives"])
    last = alternatives[-1]

    def key(data: Any) -> str:
        for alternative in alternatives:
            values = [read(data) for read in alternative]
            if None not in values:
                return separator.join(values)  # type: ignore[arg-type]
        return separator.join(read(data) or "" for read in last)

    return key


def _part_reader(part: KeyPart) -> Callable[[Any], str | None]:
    """One key part of a business key (no list element: a relative part reads nothing)."""
    if part == "":
        return _text
    if isinstance(part, str) and not (part.startswith("0/") or part == "0"):
        tokens = _tokens(part)
        if len(tokens) == 1:
            token = tokens[0]

            def read_top(root: Any) -> str | None:
                if isinstance(root, dict):
                    value = root.get(token, _MISSING)
                    # (a plain non-empty text is its own key part)
                    return value if type(value) is str and value else _text(value)
                return _text(_resolve(root, tokens))

            return read_top
        return lambda root: _text(_resolve(root, tokens))
    return lambda root: _part_value(part, root)


def line_keys(spec: dict[str, Any], data: Any) -> list[str]:
    """One key per element of the declared list (``[]`` when the list is absent)."""
    separator = str(spec.get("separator", "/"))
    rows = resolve_pointer(data, spec["list"])
    if not isinstance(rows, list):
        return []
    return [separator.join(_part_value(p, data, row) or "" for p in spec["parts"])
            for row in rows]
