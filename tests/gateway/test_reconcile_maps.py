"""The EDI path's coverage read from the message maps and guide overlays: what a partner's EDI
documents can carry, before any document is seen."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.reconcile.maps import edi_fields, map_fields
from reconciler.coverage import carried_fields
from translators import translate

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def test_the_x12_810_map_carries_tax_but_no_line_amount() -> None:
    fields = edi_fields("x12", "invoice")
    assert fields is not None
    assert {"tax_amount", "total_amount", "lines.quantity", "lines.unit_price",
            "lines.gtin", "parties.address.city"} <= fields
    assert "lines.amount" not in fields


def test_derive_operations_reshape_the_names() -> None:
    fields = edi_fields("x12", "despatch_advice")
    assert fields is not None
    # The 856's flat item list is nested by order and pack, then dropped.
    assert {"orders.packs.package_type", "orders.packs.items.quantity",
            "items.order_number"} <= fields
    assert not any(name.startswith("_items") for name in fields)


def test_a_segment_the_guide_marks_not_used_is_not_carried() -> None:
    plain = edi_fields("edifact", "despatch_advice")
    spec = {"fields": [{"field": "despatch_date", "seg": "DTM", "el": "1.2"},
                       {"field": "carrier", "seg": "TDT", "el": "5.4"}]}
    assert map_fields(spec) == {"despatch_date", "carrier"}
    assert map_fields(spec, frozenset({("TDT", None)})) == {"despatch_date"}
    assert map_fields(spec, frozenset({("TDT", 5)})) == {"despatch_date"}
    assert plain is not None and "despatch_date" in plain


def test_no_map_no_declaration() -> None:
    assert edi_fields("api", "invoice") is None
    assert edi_fields("x12", "functional_ack") is None  # built by code, not by a map


def corpus_events() -> list[tuple[str, str, str, dict]]:
    out = []
    for path in sorted(CORPUS.rglob("*")):
        if not path.is_file() or path.suffix in (".md", ".py", ".json", ".toml"):
            continue
        try:
            result = translate(path.read_bytes())
        except Exception:  # files the translator refuses carry no event
            continue
        for message in result.messages:
            if message.event is not None:
                standard = "x12" if message.message_type.isdigit() else "edifact"
                out.append((path.name, standard, message.event.event_type,
                            message.event.data))
    return out


def test_every_mapped_corpus_document_stays_inside_its_declared_coverage() -> None:
    # Were the introspection to miss a name a map produces, that field would be wrongly
    # "not comparable": every event the corpus maps to must stay inside the declaration.
    checked = 0
    for name, standard, event_type, data in corpus_events():
        declared = edi_fields(standard, event_type)
        if declared is None:
            continue
        assert carried_fields(data) <= declared, (name, sorted(carried_fields(data) - declared))
        checked += 1
    assert checked >= 50


@pytest.mark.parametrize("guides", [(), ("no-such-guide",)])
def test_a_guide_removed_since_import_does_not_stop_the_run(guides: tuple[str, ...]) -> None:
    assert edi_fields("x12", "purchase_order", guides) == edi_fields("x12", "purchase_order")
