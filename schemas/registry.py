"""The schema registry: every event type and version, loaded from the files under ``events/``.

Layout (adding a type or a version means adding a file)::

    schemas/events/<event_type>/v<N>.json   authored JSON Schema 2020-12 (the source of truth)
    schemas/events/<event_type>/v<N>.avsc   derived Avro schema (``python -m schemas.generate``)
    schemas/compatibility.json              compatibility mode: default and per type

Each version is checked against its predecessors in its type's mode when the registry is built,
so an incompatible schema file makes loading fail with the exact reasons.
"""

from __future__ import annotations

import builtins
import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import SchemaError as JsonSchemaError

from schemas.avro import derive_avro
from schemas.compat import AvroSchema, Mode, compatibility_problems
from schemas.envelope import envelope_problems, schema_uri, type_reference
from schemas.errors import (
    IncompatibleSchemaError,
    SchemaDefinitionError,
    UnknownSchemaError,
)
from schemas.keys import KeyFunction, check_key_spec, check_line_key_spec, key_function, line_keys
from schemas.validation import PayloadValidator, ValidationProblem

PACKAGE_DIR = Path(__file__).parent
EVENTS_DIR = PACKAGE_DIR / "events"
COMPATIBILITY_FILE = PACKAGE_DIR / "compatibility.json"
_VERSION_FILE = re.compile(r"^v([1-9][0-9]{0,5})\.json$")
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class SchemaVersion:
    """One version of one event type, with its derived forms compiled once."""

    event_type: str
    version: int
    json_schema: dict[str, Any]
    avro_schema: dict[str, Any]
    validator: PayloadValidator = field(repr=False, compare=False)

    @property
    def subject(self) -> str:
        return f"{self.event_type}@{self.version}"

    @property
    def uri(self) -> str:
        return str(self.json_schema["$id"])

    @property
    def business_key(self) -> dict[str, Any]:
        return dict(self.json_schema["x-business-key"])

    @property
    def line_key(self) -> dict[str, Any] | None:
        spec = self.json_schema.get("x-line-key")
        return dict(spec) if spec else None


def build_version(document: dict[str, Any], where: str = "schema") -> SchemaVersion:
    """Check one authored document and compile its validator and Avro form."""
    if not isinstance(document, dict):
        raise SchemaDefinitionError(f"{where}: a schema file holds a JSON object")
    event_type = document.get("x-event-type")
    version = document.get("x-version")
    if not isinstance(event_type, str) or not _TYPE_NAME.match(event_type):
        raise SchemaDefinitionError(f"{where}: x-event-type must be a snake_case name")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SchemaDefinitionError(f"{where}: x-version must be a positive integer")
    if document.get("$id") != schema_uri(event_type, version):
        raise SchemaDefinitionError(
            f"{where}: $id must be {schema_uri(event_type, version)!r} (found "
            f"{document.get('$id')!r})")
    check_key_spec(document.get("x-business-key"), where)
    if "x-line-key" in document:
        check_line_key_spec(document["x-line-key"], where)
    try:
        validator = PayloadValidator(document)
    except JsonSchemaError as exc:
        raise SchemaDefinitionError(f"{where}: not a valid JSON Schema: {exc.message}") from exc
    return SchemaVersion(event_type, version, document, derive_avro(document), validator)


class Registry:
    """All schema versions, indexed by type; immutable once built except through ``register``."""

    def __init__(self, versions: Iterable[SchemaVersion],
                 modes: Mapping[str, Mode] | None = None,
                 default_mode: Mode = Mode.FULL_TRANSITIVE) -> None:
        self._modes = dict(modes or {})
        self._default_mode = default_mode
        self._by_type: dict[str, dict[int, SchemaVersion]] = {}
        self._codec: Any = None
        # Keys stay the same in every version of a type (register() refuses a change), so
        # one compiled key function serves the type.
        self._keys: dict[str, KeyFunction] = {}
        for item in sorted(versions, key=lambda v: (v.event_type, v.version)):
            self.register(item)

    # --- loading ------------------------------------------------------------------------

    @classmethod
    def from_directory(cls, events_dir: Path = EVENTS_DIR,
                       compatibility_file: Path | None = COMPATIBILITY_FILE) -> Registry:
        versions = []
        for path in sorted(events_dir.glob("*/v*.json")):
            match = _VERSION_FILE.match(path.name)
            if match is None:
                raise SchemaDefinitionError(f"{path.name}: schema files are named v<N>.json")
            where = f"{path.parent.name}/{path.name}"
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise SchemaDefinitionError(f"{where}: not valid JSON: {exc}") from exc
            item = build_version(document, where)
            if (item.event_type, item.version) != (path.parent.name, int(match.group(1))):
                raise SchemaDefinitionError(
                    f"{where}: declares {item.subject}; the file must be "
                    f"{item.event_type}/v{item.version}.json")
            versions.append(item)
        modes: dict[str, Mode] = {}
        default_mode = Mode.FULL_TRANSITIVE
        if compatibility_file is not None and compatibility_file.exists():
            default_mode, modes = load_modes(compatibility_file)
        return cls(versions, modes, default_mode)

    def register(self, item: SchemaVersion) -> None:
        """Add a version; refused (``IncompatibleSchemaError``) if it breaks its type's mode."""
        known = self._by_type.get(item.event_type, {})
        if item.version in known:
            raise SchemaDefinitionError(f"{item.subject} is already registered")
        if known and item.version != max(known) + 1:
            raise SchemaDefinitionError(
                f"{item.subject}: the next version of {item.event_type} is v{max(known) + 1}")
        if not known and item.version != 1:
            raise SchemaDefinitionError(f"{item.subject}: a new type starts at v1")
        reasons = self.compatibility_problems(item)
        if known:
            first_key = known[min(known)].business_key
            if item.business_key != first_key:
                reasons.append("x-business-key changed: keys must stay stable across versions "
                               "so events of different versions still pair")
        if reasons:
            raise IncompatibleSchemaError(item.subject, reasons)
        self._by_type.setdefault(item.event_type, {})[item.version] = item
        if not known:
            self._keys[item.event_type] = key_function(item.business_key)

    def compatibility_problems(self, item: SchemaVersion) -> list[str]:
        """Why ``item`` would break its type's mode if registered ([] when it would not)."""
        known = self._by_type.get(item.event_type, {})
        previous: builtins.list[tuple[int, AvroSchema]] = [
            (v, known[v].avro_schema) for v in sorted(known) if v < item.version]
        return compatibility_problems(self.mode(item.event_type), item.avro_schema, previous)

    def mode(self, event_type: str) -> Mode:
        return self._modes.get(event_type, self._default_mode)

    # --- lookup -------------------------------------------------------------------------

    def types(self) -> list[str]:
        return sorted(self._by_type)

    def versions(self, event_type: str) -> list[int]:
        return sorted(self._versions_of(event_type))

    def list(self) -> list[SchemaVersion]:
        """Every version of every type, by type then version."""
        return [self._by_type[t][v] for t in self.types() for v in self.versions(t)]

    def latest(self, event_type: str) -> int:
        return max(self._versions_of(event_type))

    def get(self, event_type: str, version: int | None = None) -> SchemaVersion:
        versions = self._versions_of(event_type)
        chosen = max(versions) if version is None else version
        if chosen not in versions:
            raise UnknownSchemaError(
                f"{event_type} has no version {chosen} (known: "
                f"{', '.join(f'v{v}' for v in sorted(versions))})")
        return versions[chosen]

    def resolve(self, reference: str) -> SchemaVersion:
        """``"despatch_advice@2"``, ``"despatch_advice@latest"`` or ``"despatch_advice"``."""
        name, _, version = reference.partition("@")
        if version in ("", "latest"):
            return self.get(name)
        if not version.isdigit():
            raise UnknownSchemaError(f"{reference!r}: the version after '@' is a number")
        return self.get(name, int(version))

    def json_schema(self, event_type: str, version: int | None = None) -> dict[str, Any]:
        return copy.deepcopy(self.get(event_type, version).json_schema)

    def avro_schema(self, event_type: str, version: int | None = None) -> dict[str, Any]:
        return copy.deepcopy(self.get(event_type, version).avro_schema)

    def _versions_of(self, event_type: str) -> dict[int, SchemaVersion]:
        versions = self._by_type.get(event_type) if isinstance(event_type, str) else None
        if not versions:
            raise UnknownSchemaError(f"unknown event type {str(event_type)[:64]!r} (known: "
                                     f"{', '.join(self.types())})")
        return versions

    # --- validation and keys ------------------------------------------------------------

    def validate(self, event_type: str, version: int,
                 data: Any) -> builtins.list[ValidationProblem]:
        """Errors of a payload against ``type@version``; pointers are relative to the payload."""
        return self.get(event_type, version).validator.errors(data)

    def validate_event(self, event: Any) -> builtins.list[ValidationProblem]:
        """Errors of a whole CloudEvents JSON object; never raises, ``[]`` when valid."""
        if not isinstance(event, dict):
            return [{"pointer": "", "keyword": "type", "message": "an event is a JSON object"}]
        found = envelope_problems(event)
        reference = type_reference(event)
        found += reference.problems
        if reference.event_type is None:
            return found
        if reference.event_type not in self._by_type:
            found.append({"pointer": "/type", "keyword": "enum",
                          "message": f"unknown event type {reference.event_type!r} (known: "
                                     f"{', '.join(self.types())})"})
            return found
        version = reference.version or self.latest(reference.event_type)
        if version not in self._by_type[reference.event_type]:
            found.append({"pointer": "/dataschema" if "dataschema" in event else "/type",
                          "keyword": "enum",
                          "message": f"{reference.event_type} has no version {version} "
                                     f"(known: {self.versions(reference.event_type)})"})
            return found
        if isinstance(event.get("data"), dict) and not reference.problems:
            validator = self._by_type[reference.event_type][version].validator
            found += validator.errors(event["data"], prefix="/data")
        return found

    def type_and_version(self, event: dict[str, Any]) -> tuple[str, int]:
        """The type and version an event declares (latest when it names none)."""
        reference = type_reference(event)
        if reference.event_type is None or reference.problems:
            detail = "; ".join(p["message"] for p in reference.problems)
            raise UnknownSchemaError(detail or "the event names no type")
        item = self.get(reference.event_type, reference.version)
        return item.event_type, item.version

    def business_key_of(self, event_type: str, data: dict[str, Any]) -> str:
        """The key that pairs events of one business document (same in every version)."""
        return self.key_function(event_type)(data)

    def key_function(self, event_type: str) -> KeyFunction:
        """``business_key_of(event_type, ·)``, for a caller that keys many payloads."""
        try:
            return self._keys[event_type]
        except KeyError:
            self.get(event_type)  # raises UnknownSchemaError, like every other look-up
            raise

    def line_keys_of(self, event_type: str, data: dict[str, Any]) -> builtins.list[str]:
        """Keys of the lines of a document ([] for a type without line keys)."""
        spec = self.get(event_type).line_key
        return line_keys(spec, data) if spec else []

    def upcast(self, event_type: str, data: dict[str, Any], from_version: int,
               to_version: int | None = None) -> dict[str, Any]:
        """``data`` written as ``from_version`` read as ``to_version`` (default latest) through
        Avro schema resolution: new fields get their defaults, removed ones are dropped."""
        from schemas.codec import AvroCodec  # the codec module builds on this one

        codec = self._codec
        if codec is None or codec.registry_size != len(self.list()):
            codec = self._codec = AvroCodec(self)  # parsed once, again only after a register
        return codec.convert(event_type, data, from_version, to_version)


def load_modes(path: Path) -> tuple[Mode, dict[str, Mode]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        default = Mode(raw.get("default", Mode.FULL_TRANSITIVE.value))
        modes = {name: Mode(value) for name, value in raw.get("types", {}).items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise SchemaDefinitionError(
            f"{path.name}: expected {{'default': MODE, 'types': {{type: MODE}}}} with MODE one "
            f"of {[m.value for m in Mode]}: {exc}") from exc
    return default, modes


@cache
def default_registry() -> Registry:
    """The registry of the packaged schema files, loaded once per process."""
    return Registry.from_directory()
