"""Avro codecs: lossless round trips, v1 read as v2, exports, and garbage bytes refused."""

from __future__ import annotations

import io
from typing import Any

import pytest

from schemas import default_registry
from schemas.codec import AvroCodec, CodecError
from tests.schemas.samples import DESPATCH_V1, SAMPLES, sample


@pytest.fixture(scope="module")
def codec() -> AvroCodec:
    return AvroCodec(default_registry())


def _without_nulls(value: Any) -> Any:
    """Avro has no 'absent': decoding fills null for missing optional fields."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_schemaless_round_trip_is_lossless(codec: AvroCodec, event_type: str) -> None:
    registry = default_registry()
    version = registry.latest(event_type)
    data = sample(event_type)
    decoded = codec.decode_body(event_type, codec.encode_body(event_type, version, data), version)
    assert _without_nulls(decoded) == data
    assert registry.validate(event_type, version, decoded) == [], "decoded data stays valid"


def test_v1_body_decodes_as_v2_with_defaults_filled(codec: AvroCodec) -> None:
    body = codec.encode_body("despatch_advice", 1, DESPATCH_V1)
    decoded = codec.decode_body("despatch_advice", body, writer_version=1)
    assert decoded["carrier"] is None and decoded["tracking_number"] is None
    assert _without_nulls(decoded) == DESPATCH_V1
    assert default_registry().validate("despatch_advice", 3, decoded) == []
    as_v2 = codec.decode_body("despatch_advice", body, writer_version=1, reader_version=2)
    assert as_v2["carrier"] is None and "identifiers" not in as_v2["items"][0]
    assert default_registry().validate("despatch_advice", 2, as_v2) == []


def test_upcast_through_the_registry(codec: AvroCodec) -> None:
    upcast = default_registry().upcast("despatch_advice", DESPATCH_V1, 1)
    assert list(upcast)[-2:] == ["carrier", "tracking_number"]
    assert upcast["carrier"] is None and upcast["shipment_number"] == "S-77"


def test_v2_data_read_by_a_v1_reader_drops_the_new_fields(codec: AvroCodec) -> None:
    """FULL compatibility: an old consumer still reads new events."""
    data = sample("despatch_advice")
    old_view = codec.convert("despatch_advice", data, 2, 1)
    assert "carrier" not in old_view and old_view["shipment_number"] == "S-77"


def test_single_object_encoding_names_its_writer(codec: AvroCodec) -> None:
    payload = codec.encode("despatch_advice", 1, DESPATCH_V1)
    assert payload[:2] == b"\xc3\x01"
    event_type, writer_version, data = codec.decode(payload)
    assert (event_type, writer_version) == ("despatch_advice", 1)
    assert data["carrier"] is None, "read with the latest version"
    assert "carrier" not in codec.decode(payload, reader_version=1)[2]


def test_ocf_export_reads_back_as_latest(codec: AvroCodec) -> None:
    out = io.BytesIO()
    second = dict(DESPATCH_V1, shipment_number="S-78")
    codec.write_ocf(out, "despatch_advice", [DESPATCH_V1, second], version=1)
    out.seek(0)
    records = list(codec.read_ocf(out))
    assert [r["shipment_number"] for r in records] == ["S-77", "S-78"]
    assert all(r["tracking_number"] is None for r in records)


@pytest.mark.parametrize("payload", [
    b"", b"\xc3\x01", b"{}", b"\xc3\x01" + b"\x00" * 8 + b"\x02",
])
def test_foreign_bytes_are_a_codec_error(codec: AvroCodec, payload: bytes) -> None:
    with pytest.raises(CodecError):
        codec.decode(payload)


def test_truncated_and_padded_bodies_are_refused(codec: AvroCodec) -> None:
    body = codec.encode_body("purchase_order", 1, sample("purchase_order"))
    with pytest.raises(CodecError, match="undecodable"):
        codec.decode_body("purchase_order", body[: len(body) // 2], 1)
    with pytest.raises(CodecError, match="trailing"):
        codec.decode_body("purchase_order", body + b"\x00", 1)


def test_huge_length_prefix_does_not_allocate_or_hang(codec: AvroCodec) -> None:
    # shipment_number's length as a zig-zag varint of ~2**62 bytes, then nothing.
    with pytest.raises(CodecError):
        codec.decode_body("despatch_advice", b"\xfe\xff\xff\xff\xff\xff\xff\xff\x7f", 1)


def test_invalid_data_is_refused_when_encoding(codec: AvroCodec) -> None:
    with pytest.raises(CodecError, match="does not fit"):
        codec.encode_body("purchase_order", 1, {"order_number": 5, "lines": []})


def test_not_an_ocf_file(codec: AvroCodec) -> None:
    with pytest.raises(CodecError):
        list(codec.read_ocf(io.BytesIO(b"Obj\x01garbage")))
