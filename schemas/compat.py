"""Compatibility of Avro schemas, in the modes of the Confluent Schema Registry.

The core question is the Avro schema-resolution one: *can a reader with schema R decode data
written with schema W?* ``reader_problems`` answers it with every reason it cannot. The modes
then ask that question in one or both directions, against the previous version or all of them:

- BACKWARD: the new version reads data written by the old one (consumers upgrade first)
- FORWARD: the old version reads data written by the new one (producers upgrade first)
- FULL: both; ``*_TRANSITIVE``: against every earlier version, not just the last; NONE: no check

A reason names the rule and the field path (``*`` stands for any array element), phrased as a
change from old to new, e.g. ``/lines/*/quantity: type changed from double to string``.

Enums are Avro strings carrying ``x-enum`` (see ``schemas.avro``); the checker treats them like
Avro enums without a default: a reader must know every symbol a writer may send.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

AvroSchema = dict[str, Any] | list[Any] | str

# Avro's promotions: writer type -> reader types that can read it.
_PROMOTIONS = {
    "int": {"int", "long", "float", "double"},
    "long": {"long", "float", "double"},
    "float": {"float", "double"},
    "string": {"string", "bytes"},
    "bytes": {"bytes", "string"},
}


class Mode(StrEnum):
    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def backward(self) -> bool:
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        return self.value.startswith(("FORWARD", "FULL"))

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a reader cannot read a writer's data. ``rule`` is stable, for tests and APIs."""

    rule: str  # missing_field | type_changed | enum_narrowed | null_refused | record_renamed
    path: str
    reader: str = ""
    writer: str = ""
    field: str = ""


def reader_problems(reader: AvroSchema, writer: AvroSchema) -> list[Problem]:
    """Every reason ``reader`` cannot decode what ``writer`` encoded ([] when it can)."""
    return _Checker(reader, writer).check(reader, writer, "")


class _Checker:
    def __init__(self, reader: AvroSchema, writer: AvroSchema) -> None:
        self.reader_names = _named_types(reader)
        self.writer_names = _named_types(writer)
        self.seen: set[tuple[str, str]] = set()  # recursion guard for named types

    def check(self, reader: AvroSchema, writer: AvroSchema, path: str) -> list[Problem]:
        reader = _deref(reader, self.reader_names)
        writer = _deref(writer, self.writer_names)
        if isinstance(writer, list):
            problems: list[Problem] = []
            for branch in writer:
                problems += self.check(reader, branch, path)
            return problems
        if isinstance(reader, list):
            attempts = [self.check(branch, writer, path) for branch in reader]
            if any(not a for a in attempts):
                return []
            matching = [a for b, a in zip(reader, attempts, strict=True)
                        if _kind(_deref(b, self.reader_names)) == _kind(writer)]
            if matching:
                return matching[0]
            if _kind(writer) == "null":
                return [Problem("null_refused", path or "/")]
            non_null = [b for b in reader if _kind(_deref(b, self.reader_names)) != "null"]
            shown = non_null[0] if len(non_null) == 1 else reader
            return [Problem("type_changed", path or "/", reader=_describe(shown),
                            writer=_describe(writer))]
        reader_kind, writer_kind = _kind(reader), _kind(writer)
        if writer_kind == "null" and reader_kind != "null":
            return [Problem("null_refused", path or "/")]
        if reader_kind != writer_kind and reader_kind not in _PROMOTIONS.get(writer_kind, ()):
            return [Problem("type_changed", path or "/", reader=_describe(reader),
                            writer=_describe(writer))]
        if reader_kind == "record":
            return self.records(reader, writer, path)  # type: ignore[arg-type]
        if reader_kind == "array":
            return self.check(reader["items"], writer["items"], f"{path}/*")  # type: ignore[index]
        if reader_kind == "map":
            return self.check(reader["values"], writer["values"],  # type: ignore[index]
                              f"{path}/*")
        if reader_kind == "enum" or _enum_symbols(reader) is not None:
            return self.symbols(reader, writer, path)
        return []

    def records(self, reader: dict[str, Any], writer: dict[str, Any],
                path: str) -> list[Problem]:
        if _short(reader["name"]) != _short(writer["name"]) and \
                _short(writer["name"]) not in {_short(a) for a in reader.get("aliases", [])}:
            return [Problem("record_renamed", path or "/", reader=reader["name"],
                            writer=writer["name"])]
        key = (reader["name"], writer["name"])
        if key in self.seen:
            return []
        self.seen.add(key)
        written = {f["name"]: f for f in writer["fields"]}
        for field in writer["fields"]:
            for alias in field.get("aliases", []):
                written.setdefault(alias, field)
        problems: list[Problem] = []
        for field in reader["fields"]:
            field_path = f"{path}/{field['name']}"
            source = written.get(field["name"])
            if source is None:
                for alias in field.get("aliases", []):
                    source = written.get(alias)
                    if source is not None:
                        break
            if source is None:
                if "default" not in field:
                    problems.append(Problem("missing_field", field_path, field=field["name"]))
                continue
            problems += self.check(field["type"], source["type"], field_path)
        self.seen.discard(key)
        return problems

    def symbols(self, reader: AvroSchema, writer: AvroSchema, path: str) -> list[Problem]:
        reader_symbols = _enum_symbols(reader)
        writer_symbols = _enum_symbols(writer)
        if reader_symbols is None:
            return []  # a plain string reads any symbol
        if isinstance(reader, dict) and reader.get("type") == "enum" and "default" in reader:
            return []  # Avro maps unknown symbols to the reader's default
        if writer_symbols is None:
            return [Problem("enum_narrowed", path or "/", reader=", ".join(reader_symbols),
                            writer="any string")]
        unknown = [s for s in writer_symbols if s not in reader_symbols]
        if unknown:
            return [Problem("enum_narrowed", path or "/", reader=", ".join(reader_symbols),
                            writer=", ".join(unknown))]
        return []


def _named_types(schema: AvroSchema, names: dict[str, Any] | None = None,
                 namespace: str = "") -> dict[str, Any]:
    names = {} if names is None else names
    if isinstance(schema, list):
        for branch in schema:
            _named_types(branch, names, namespace)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "enum", "fixed", "error"):
            namespace = schema.get("namespace", namespace)
            full = schema["name"] if "." in schema["name"] else \
                f"{namespace}.{schema['name']}".lstrip(".")
            names[full] = schema
            names.setdefault(_short(full), schema)
            for field in schema.get("fields", []):
                _named_types(field["type"], names, namespace)
        elif kind == "array":
            _named_types(schema["items"], names, namespace)
        elif kind == "map":
            _named_types(schema["values"], names, namespace)
    return names


def _deref(schema: AvroSchema, names: dict[str, Any]) -> AvroSchema:
    if isinstance(schema, str) and schema not in _KINDS:
        found = names.get(schema) or names.get(_short(schema))
        return found if found is not None else schema
    if isinstance(schema, dict) and isinstance(schema.get("type"), list | dict):
        return schema["type"]  # {"type": [..]} wrapper
    return schema


_KINDS = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _kind(schema: AvroSchema) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return "union"
    kind = schema["type"]
    return "record" if kind == "error" else str(kind)


def _enum_symbols(schema: AvroSchema) -> list[str] | None:
    if isinstance(schema, dict):
        if schema.get("type") == "enum":
            return list(schema["symbols"])
        if "x-enum" in schema:
            return list(schema["x-enum"])
    return None


def _describe(schema: AvroSchema) -> str:
    if isinstance(schema, list):
        return "[" + ", ".join(_describe(b) for b in schema) + "]"
    kind = _kind(schema)
    if kind in ("record", "enum", "fixed") and isinstance(schema, dict):
        return f"{kind} {_short(schema['name'])}"
    if kind == "array" and isinstance(schema, dict):
        return f"array<{_describe(schema['items'])}>"
    return kind


def explain(problem: Problem, reader_is_new: bool) -> str:
    """A reason phrased as the change from the old version to the new one."""
    old, new = (problem.writer, problem.reader) if reader_is_new else \
        (problem.reader, problem.writer)
    where = problem.path
    if problem.rule == "missing_field":
        if reader_is_new:
            return (f"{where}: new required field {problem.field!r} has no default "
                    "(old data does not have it)")
        return (f"{where}: field {problem.field!r} removed without a default "
                "(old readers need it)")
    if problem.rule == "type_changed":
        return f"{where}: type changed from {old} to {new}"
    if problem.rule == "enum_narrowed":
        if reader_is_new:
            return f"{where}: enum narrowed: the new version no longer accepts {problem.writer}"
        return f"{where}: enum widened: old readers do not know {problem.writer}"
    if problem.rule == "null_refused":
        if reader_is_new:
            return f"{where}: null no longer accepted (old data may hold null)"
        return f"{where}: new version may write null, which old readers refuse"
    if problem.rule == "record_renamed":
        return f"{where}: record renamed from {old} to {new} without an alias"
    return f"{where}: {problem.rule}"


def compatibility_problems(mode: Mode, new: AvroSchema,
                           previous: list[tuple[int, AvroSchema]]) -> list[str]:
    """Reasons ``new`` breaks ``mode`` against ``previous`` (ascending (version, schema))."""
    if mode is Mode.NONE or not previous:
        return []
    against = previous if mode.transitive else previous[-1:]
    reasons: list[str] = []
    for version, old in against:
        if mode.backward:
            reasons += [f"BACKWARD vs v{version}: {explain(p, reader_is_new=True)}"
                        for p in reader_problems(new, old)]
        if mode.forward:
            reasons += [f"FORWARD vs v{version}: {explain(p, reader_is_new=False)}"
                        for p in reader_problems(old, new)]
    return reasons
