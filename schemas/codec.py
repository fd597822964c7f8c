"""Avro codecs with fastavro: schemaless bodies for storage, single-object and OCF for export.

- ``encode_body``/``decode_body``: the bare Avro binary; the caller keeps the writer version
  (the event row does), the reader defaults to the latest version, so a v1 body decodes as v2.
- ``encode``/``decode``: Avro single-object encoding (marker ``C3 01`` + the writer schema's
  CRC-64-AVRO fingerprint + body), self-describing for a broker or a cache.
- ``write_ocf``/``read_ocf``: an Avro object container file (the writer schema in the header),
  for exports; reading resolves every record to the latest version.

Decoded records hold every field of the reader schema: optional fields absent from the JSON
come back as ``null``. Payloads are validated before encoding, so fastavro's own errors are only
reached with invalid data and are turned into ``CodecError`` with the reason.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterable, Iterator
from typing import IO, Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from schemas.errors import SchemaError, UnknownSchemaError
from schemas.registry import Registry

SINGLE_OBJECT_MARKER = b"\xc3\x01"


class CodecError(SchemaError):
    """Bytes that are not a decodable event, or data that does not fit its schema."""


class AvroCodec:
    """Encoders and decoders for every version in a registry; schemas are parsed once."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._parsed: dict[tuple[str, int], Any] = {}
        self._fingerprints: dict[tuple[str, int], bytes] = {}
        self._by_fingerprint: dict[bytes, tuple[str, int]] = {}
        self._latest = {t: registry.latest(t) for t in registry.types()}
        self.registry_size = len(registry.list())
        for item in registry.list():
            key = (item.event_type, item.version)
            self._parsed[key] = fastavro.parse_schema(item.avro_schema)
            self._fingerprints[key] = schema_fingerprint(item.avro_schema)
            self._by_fingerprint[self._fingerprints[key]] = key

    def schema(self, event_type: str, version: int | None = None) -> Any:
        parsed = self._parsed.get((event_type, version or self._latest.get(event_type, 0)))
        if parsed is None:
            self.registry.get(event_type, version)  # raises UnknownSchemaError with the reason
            raise UnknownSchemaError(f"{event_type}@{version} was added after this codec")
        return parsed

    # --- schemaless ---------------------------------------------------------------------

    def encode_body(self, event_type: str, version: int, data: dict[str, Any]) -> bytes:
        out = io.BytesIO()
        try:
            fastavro.schemaless_writer(out, self.schema(event_type, version), data)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CodecError(f"{event_type}@{version}: data does not fit the schema: "
                             f"{exc}") from exc
        return out.getvalue()

    def decode_body(self, event_type: str, body: bytes, writer_version: int,
                    reader_version: int | None = None) -> dict[str, Any]:
        writer = self.schema(event_type, writer_version)
        reader = self.schema(event_type, reader_version)
        stream = io.BytesIO(body)
        if reader is writer:
            reader = None  # same version: skip schema resolution
        try:
            record = fastavro.schemaless_reader(stream, writer, reader)
        except (EOFError, ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError,
                struct.error, fastavro.read.SchemaResolutionError) as exc:
            raise CodecError(f"{event_type}@{writer_version}: undecodable Avro body "
                             f"({type(exc).__name__}: {exc})") from exc
        if stream.tell() != len(body):
            raise CodecError(f"{event_type}@{writer_version}: {len(body) - stream.tell()} "
                             "trailing byte(s) after the record")
        if not isinstance(record, dict):
            raise CodecError(f"{event_type}@{writer_version}: the body is not a record")
        return record

    def convert(self, event_type: str, data: dict[str, Any], from_version: int,
                to_version: int | None = None) -> dict[str, Any]:
        """Upcast (or downcast, where the mode allows) through Avro schema resolution."""
        body = self.encode_body(event_type, from_version, data)
        return self.decode_body(event_type, body, from_version, to_version)

    # --- single-object encoding ---------------------------------------------------------

    def encode(self, event_type: str, version: int, data: dict[str, Any]) -> bytes:
        self.schema(event_type, version)  # unknown type or version: a clear error first
        return (SINGLE_OBJECT_MARKER + self._fingerprints[(event_type, version)]
                + self.encode_body(event_type, version, data))

    def decode(self, payload: bytes,
               reader_version: int | None = None) -> tuple[str, int, dict[str, Any]]:
        """``(event_type, writer_version, data read with reader_version or the latest)``."""
        if len(payload) < 10 or payload[:2] != SINGLE_OBJECT_MARKER:
            raise CodecError("not Avro single-object encoding (expected marker C3 01 and an "
                             "8-byte schema fingerprint)")
        key = self._by_fingerprint.get(payload[2:10])
        if key is None:
            raise CodecError(f"unknown schema fingerprint {payload[2:10].hex()}")
        event_type, writer_version = key
        return event_type, writer_version, self.decode_body(
            event_type, payload[10:], writer_version, reader_version)

    # --- object container files ---------------------------------------------------------

    def write_ocf(self, out: IO[bytes], event_type: str, records: Iterable[dict[str, Any]],
                  version: int | None = None, codec: str = "deflate") -> None:
        item = self.registry.get(event_type, version)
        try:
            fastavro.writer(out, self._parsed[(item.event_type, item.version)], records,
                            codec=codec, metadata={"edigate.subject": item.subject})
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CodecError(f"{item.subject}: a record does not fit the schema: {exc}") from exc

    def read_ocf(self, stream: IO[bytes],
                 reader_version: int | None = None) -> Iterator[dict[str, Any]]:
        """Records of an exported file, resolved to ``reader_version`` (default latest)."""
        try:
            probe = fastavro.reader(stream)
        except (ValueError, TypeError, EOFError, struct.error) as exc:
            raise CodecError(f"not an Avro object container file: {exc}") from exc
        event_type = _event_type_of(probe.writer_schema)
        try:
            reader_schema = self.schema(event_type, reader_version)
        except UnknownSchemaError as exc:
            raise CodecError(f"the file holds records of an unknown type: {exc}") from exc
        stream.seek(0)
        try:
            yield from fastavro.reader(  # type: ignore[misc]  # records of a record schema
                stream, reader_schema=reader_schema)
        except (ValueError, TypeError, EOFError, struct.error,
                fastavro.read.SchemaResolutionError) as exc:
            raise CodecError(f"damaged Avro object container file: {exc}") from exc


def _event_type_of(writer_schema: Any) -> str:
    if isinstance(writer_schema, dict) and isinstance(writer_schema.get("x-event-type"), str):
        return str(writer_schema["x-event-type"])
    raise CodecError("the file's writer schema names no event type (x-event-type)")


def schema_fingerprint(avro_schema: dict[str, Any]) -> bytes:
    """CRC-64-AVRO of the parsing canonical form, little-endian (the single-object header)."""
    canonical = to_parsing_canonical_form(json.loads(json.dumps(avro_schema)))
    return int(fingerprint(canonical, "CRC-64-AVRO"), 16).to_bytes(8, "little")
