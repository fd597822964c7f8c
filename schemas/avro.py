"""Derive the Avro schema of an event version from its JSON Schema (the authored form).

The JSON Schema file is the single source of truth; this module maps the subset we author into
Avro so both forms describe the same records:

- ``object`` (``additionalProperties: false``, a ``title`` naming the record) -> ``record``
- ``string`` -> ``string``; a string ``enum`` -> ``string`` carrying ``x-enum`` (Avro enum
  symbols cannot start with a digit, and "997" is a real value; the compatibility checker reads
  ``x-enum``); ``integer`` -> ``long``; ``number`` -> ``double``; ``boolean`` -> ``boolean``
- ``array`` -> ``array``; ``$ref: #/$defs/x`` -> the named record, defined on first use
- a property that accepts ``null`` -> ``["null", T]`` with default ``null``; an optional
  property must accept ``null``, because Avro has no "absent" and decoding yields ``null``
- validation-only keywords (lengths, ranges, patterns, formats, ``allOf``/``if``/``then``) do not
  change the record shape and are not carried over

Anything else is refused with the JSON pointer of the construct, so a schema author learns at
generation time (and in CI) that a form cannot be encoded.
"""

from __future__ import annotations

import re
from typing import Any

from schemas.errors import SchemaDefinitionError

NAMESPACE = "com.edigate.events"
_AVRO_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PRIMITIVES = {"string": "string", "integer": "long", "number": "double", "boolean": "boolean"}
_SHAPE_NEUTRAL = {
    "title", "description", "minLength", "maxLength", "pattern", "format", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems", "uniqueItems", "allOf",
    "examples", "$comment", "default", "const", "if", "then", "else", "not", "multipleOf",
}
_ROOT_ONLY = {"$schema", "$id", "$defs", "x-event-type", "x-version", "x-business-key",
              "x-line-key"}

AvroSchema = dict[str, Any] | list[Any] | str


def derive_avro(document: dict[str, Any]) -> dict[str, Any]:
    """The Avro record schema of one authored JSON Schema document."""
    return _Deriver(document).root()


class _Deriver:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.defs: dict[str, Any] = document.get("$defs", {})
        self.defined: dict[str, str] = {}  # $defs key -> record name already emitted
        self.names: set[str] = set()

    def root(self) -> dict[str, Any]:
        record = self.record(self.document, "")
        derived = {
            "type": "record", "name": record["name"], "namespace": NAMESPACE,
            "doc": (f"{self.document.get('x-event-type')} v{self.document.get('x-version')}; "
                    "derived from the JSON Schema by `python -m schemas.generate`, do not edit"),
            "x-event-type": self.document.get("x-event-type"),
            "x-version": self.document.get("x-version"),
            "fields": record["fields"],
        }
        return derived

    def fail(self, pointer: str, message: str) -> SchemaDefinitionError:
        title = self.document.get("$id", "schema")
        return SchemaDefinitionError(f"{title} at #{pointer or '/'}: {message}")

    def record(self, node: dict[str, Any], pointer: str) -> dict[str, Any]:
        name = node.get("title")
        if not isinstance(name, str) or not _AVRO_NAME.match(name):
            raise self.fail(pointer, "an object needs a 'title' that is a valid Avro record name")
        if name in self.names:
            raise self.fail(pointer, f"record name {name!r} is used twice; give it its own title")
        if node.get("additionalProperties") is not False:
            raise self.fail(pointer, "an object must say additionalProperties: false "
                                     "(Avro cannot carry undeclared fields)")
        extra = set(node) - _SHAPE_NEUTRAL - _ROOT_ONLY - {
            "type", "properties", "required", "additionalProperties"}
        if extra:
            raise self.fail(pointer, f"unsupported keyword(s) {sorted(extra)}")
        self.names.add(name)
        required = set(node.get("required", []))
        properties: dict[str, Any] = node.get("properties", {})
        unknown_required = required - set(properties)
        if unknown_required:
            raise self.fail(pointer, f"required names undeclared properties "
                                     f"{sorted(unknown_required)}")
        fields = []
        for field_name, sub in properties.items():
            where = f"{pointer}/properties/{field_name}"
            if not _AVRO_NAME.match(field_name):
                raise self.fail(where, f"property name {field_name!r} is not a valid Avro name")
            avro_type, nullable = self.value(sub, where)
            field: dict[str, Any] = {"name": field_name}
            if isinstance(sub, dict) and isinstance(sub.get("description"), str):
                field["doc"] = sub["description"]
            if nullable:
                field["type"] = ["null", avro_type]
                field["default"] = None
            elif field_name in required:
                field["type"] = avro_type
            else:
                raise self.fail(where, "an optional property must accept null "
                                       "(Avro decodes an absent field as null)")
            fields.append(field)
        return {"type": "record", "name": name, "fields": fields}

    def value(self, node: Any, pointer: str) -> tuple[AvroSchema, bool]:
        """The Avro type of a JSON Schema node, and whether it accepts null."""
        if not isinstance(node, dict):
            raise self.fail(pointer, "a schema must be an object")
        if "$ref" in node:
            return self.ref(node, pointer), False
        if "anyOf" in node or "oneOf" in node:
            return self.nullable_choice(node, pointer)
        types = node.get("type")
        type_list = [types] if isinstance(types, str) else list(types or [])
        nullable = "null" in type_list
        concrete = [t for t in type_list if t != "null"]
        if len(concrete) != 1:
            raise self.fail(pointer, f"type must be one type, optionally with null: {types!r}")
        kind = concrete[0]
        if "enum" in node:
            return self.enum(node, kind, nullable, pointer), nullable
        if kind in _PRIMITIVES:
            extra = set(node) - _SHAPE_NEUTRAL - {"type"}
            if extra:
                raise self.fail(pointer, f"unsupported keyword(s) {sorted(extra)}")
            return _PRIMITIVES[kind], nullable
        if kind == "array":
            extra = set(node) - _SHAPE_NEUTRAL - {"type", "items"}
            if extra or "items" not in node:
                raise self.fail(pointer, "an array needs 'items' and nothing but constraints")
            items, items_nullable = self.value(node["items"], pointer + "/items")
            return {"type": "array",
                    "items": ["null", items] if items_nullable else items}, nullable
        if kind == "object":
            return self.record(node, pointer), nullable
        raise self.fail(pointer, f"type {kind!r} has no Avro form here")

    def enum(self, node: dict[str, Any], kind: str, nullable: bool, pointer: str) -> AvroSchema:
        symbols = [s for s in node["enum"] if s is not None]
        if kind != "string" or not all(isinstance(s, str) for s in symbols):
            raise self.fail(pointer, "only string enums are supported")
        if (None in node["enum"]) != nullable:
            raise self.fail(pointer, "an enum lists null exactly when its type allows null")
        return {"type": "string", "x-enum": symbols}

    def ref(self, node: dict[str, Any], pointer: str) -> AvroSchema:
        target = node["$ref"]
        if set(node) - {"$ref", "description"}:
            raise self.fail(pointer, "$ref takes no sibling keywords here")
        if not isinstance(target, str) or not target.startswith("#/$defs/"):
            raise self.fail(pointer, f"only local '#/$defs/...' references are supported: "
                                     f"{target!r}")
        key = target.removeprefix("#/$defs/")
        if key in self.defined:
            return f"{NAMESPACE}.{self.defined[key]}"
        if key not in self.defs:
            raise self.fail(pointer, f"$ref {target!r} has no definition")
        definition = self.defs[key]
        derived, nullable = self.value(definition, f"/$defs/{key}")
        if nullable or not isinstance(derived, dict) or derived.get("type") != "record":
            raise self.fail(f"/$defs/{key}", "a definition must be a non-null object")
        self.defined[key] = derived["name"]
        return derived

    def nullable_choice(self, node: dict[str, Any], pointer: str) -> tuple[AvroSchema, bool]:
        keyword = "anyOf" if "anyOf" in node else "oneOf"
        options = node[keyword]
        if set(node) - _SHAPE_NEUTRAL - {keyword} or not isinstance(options, list):
            raise self.fail(pointer, f"{keyword} takes no sibling keywords here")
        non_null = [o for o in options if o != {"type": "null"}]
        if len(options) != 2 or len(non_null) != 1:
            raise self.fail(pointer, f"{keyword} is supported only as [schema, {{type: null}}]")
        inner, _ = self.value(non_null[0], f"{pointer}/{keyword}/{options.index(non_null[0])}")
        return inner, True
