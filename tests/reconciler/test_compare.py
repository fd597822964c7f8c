"""Normalisation and every tolerance rule, each on both sides of its limit."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler import Comparator, ConfigError, ReconcileConfig
from tests.reconciler.documents import invoice, purchase_order, variant


def diffs(edi: dict[str, Any], api: dict[str, Any], **rules: Any) -> list[tuple[str, str]]:
    config = ReconcileConfig.from_table(rules)
    found = Comparator(config.rules_for("purchase_order")).compare(edi, api)
    return [(d.path, d.rule) for d in found]


def line(**changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    edi = purchase_order()
    api = variant(edi)
    api["lines"][0].update(changes)
    return edi, api


# -- normalisation ---------------------------------------------------------------------------

def test_blanks_and_case_are_normalised_by_default() -> None:
    edi, api = line(description="  GASKET   100 mm ")
    assert diffs(edi, api) == []


def test_case_counts_when_configured() -> None:
    edi, api = line(description="GASKET 100 MM")
    assert diffs(edi, api, case_sensitive=True) == [
        ("lines[10].description", "text equal (trimmed)")]


def test_real_text_difference() -> None:
    edi, api = line(buyer_part="GSK-101")
    assert diffs(edi, api) == [("lines[10].buyer_part", "text equal (trimmed, any case)")]


def test_decimal_precision_and_numeric_strings() -> None:
    edi, api = line(quantity="500.000", unit_price="0.4200")
    assert diffs(edi, api) == []


def test_rounding_to_configured_decimals() -> None:
    edi, api = line(unit_price=0.4200004)
    assert diffs(edi, api) == []  # 6 decimals by default
    assert diffs(edi, api, decimals=7) == [
        ("lines[10].unit_price", "amount equal (7 decimals)")]


def test_unit_aliases_are_the_same_unit() -> None:
    edi, api = line(unit="C62")  # Rec 20 "one" = each
    assert diffs(edi, api) == []


def test_convertible_units_compare_quantities_in_the_edi_unit() -> None:
    edi = purchase_order()
    api = variant(edi)
    api["lines"][1].update(quantity=12500, unit="GRM")  # 12.5 KGM
    assert diffs(edi, api) == []
    api["lines"][1]["quantity"] = 12600
    assert diffs(edi, api) == [
        ("lines[20].quantity", "quantity equal (6 decimals) after unit conversion")]


def test_unconvertible_units_differ() -> None:
    edi, api = line(unit="KGM")  # line 10 is in EA
    assert diffs(edi, api) == [("lines[10].unit", "unit (same code or convertible)")]


def test_date_against_datetime_on_the_same_day() -> None:
    edi = purchase_order()
    api = variant(edi)
    api["order_date"] = "2024-03-04T16:30:00+01:00"
    assert diffs(edi, api) == []
    api["order_date"] = "2024-03-05T00:30:00+01:00"
    assert diffs(edi, api) == [("order_date", "date equal")]


def test_datetimes_compare_as_instants() -> None:
    edi = {**purchase_order(), "issued": "2024-03-04T10:00:00+01:00"}
    api = {**purchase_order(), "issued": "2024-03-04T09:00:00Z"}
    assert diffs(edi, api) == []


def test_reordered_lines_and_padded_line_numbers_still_pair() -> None:
    edi = purchase_order()
    api = variant(edi)
    api["lines"].reverse()
    api["lines"][0]["line_number"] = "0020"
    assert diffs(edi, api) == []


def test_null_and_empty_equal_absent() -> None:
    edi = purchase_order()
    api = variant(edi)
    api["order_type"] = None
    api["lines"][0]["gtin"] = ""
    assert diffs(edi, api) == []


def test_field_on_one_side_only() -> None:
    edi = purchase_order()
    api = variant(edi)
    del api["requested_delivery_date"]
    assert diffs(edi, api) == [("requested_delivery_date", "missing_field")]


def test_parties_pair_by_role() -> None:
    edi = purchase_order()
    api = variant(edi)
    api["parties"].reverse()
    api["parties"][0]["id"] = "5790000000028"  # the seller
    assert diffs(edi, api) == [("parties[seller].id", "text equal (trimmed, any case)")]


# -- tolerances ------------------------------------------------------------------------------

def test_quantity_absolute_tolerance_inclusive_limit() -> None:
    assert diffs(*line(quantity=500.5), quantity_abs=0.5) == []
    assert diffs(*line(quantity=500.6), quantity_abs=0.5) == [
        ("lines[10].quantity", "quantity |Δ| ≤ 0.5")]


def test_quantity_relative_tolerance() -> None:
    assert diffs(*line(quantity=505), quantity_rel=0.01) == []  # 5 of 505 < 1%
    assert diffs(*line(quantity=506), quantity_rel=0.01) == [
        ("lines[10].quantity", "quantity |Δ| ≤ 1%")]


def test_quantity_absolute_or_relative_whichever_is_larger() -> None:
    rules = {"quantity_abs": 2, "quantity_rel": 0.001}
    assert diffs(*line(quantity=502), **rules) == []
    assert diffs(*line(quantity=503), **rules) == [
        ("lines[10].quantity", "quantity |Δ| ≤ max(2, 0.1%)")]


def test_amount_absolute_tolerance() -> None:
    edi, api = invoice(), invoice()
    api["total_amount"] = 435.01
    api["tax_amount"] = 82.67
    found = Comparator(ReconcileConfig.from_table({"amount_abs": 0.01}).rules).compare(edi, api)
    assert [(d.path, d.edi, d.api, d.rule) for d in found] == [
        ("tax_amount", 82.65, 82.67, "amount |Δ| ≤ 0.01")]


def test_amount_relative_tolerance() -> None:
    edi, api = invoice(), invoice()
    api["lines"][1]["amount"] = 226.0  # 1 of 226 = 0.44%
    comparator = Comparator(ReconcileConfig.from_table({"amount_rel": 0.005}).rules)
    assert comparator.compare(edi, api) == []
    strict = Comparator(ReconcileConfig.from_table({"amount_rel": 0.004}).rules)
    assert [d.path for d in strict.compare(edi, api)] == ["lines[2].amount"]


def test_quantity_tolerance_does_not_loosen_amounts() -> None:
    assert diffs(*line(unit_price=0.45), quantity_abs=1) == [
        ("lines[10].unit_price", "amount equal (6 decimals)")]


def test_date_tolerance_in_days() -> None:
    edi = purchase_order()
    api = variant(edi)
    api["requested_delivery_date"] = "2024-03-12"
    assert diffs(edi, api, date_days=1) == []
    api["requested_delivery_date"] = "2024-03-13"
    assert diffs(edi, api, date_days=1) == [("requested_delivery_date", "date ±1 day(s)")]


def test_ignored_fields_by_name_prefix_and_wildcard() -> None:
    edi = purchase_order()
    api = variant(edi)
    api["lines"][0]["description"] = "other"
    api["parties"][0]["name"] = "Someone else"
    api["currency"] = "USD"
    assert diffs(edi, api, ignore=["lines.description", "parties.name", "currency"]) == []
    assert diffs(edi, api, ignore=["*.description", "parties"]) == [
        ("currency", "text equal (trimmed, any case)")]


def test_type_rules_override_and_extend_partner_defaults() -> None:
    config = ReconcileConfig.from_table({
        "quantity_abs": 1, "ignore": ["currency"],
        "types": {"purchase_order": {"quantity_abs": 0, "ignore": ["lines.description"]}}})
    po = config.rules_for("purchase_order")
    assert po.quantity_abs == 0 and po.ignore == {"currency", "lines.description"}
    assert config.rules_for("invoice").quantity_abs == 1


@pytest.mark.parametrize(("table", "message"), [
    ({"quantity_rel": 5}, "quantity_rel: a relative tolerance is a fraction"),
    ({"quantity_abs": -1}, "quantity_abs: expected a finite number >= 0"),
    ({"date_days": 1.5}, "date_days: expected a whole number from 0 to 366"),
    ({"ignore": "lines"}, "ignore: expected a list of field names"),
    ({"tolerance": 1}, "reconcile.tolerance: unknown key"),
    ({"gate": {"threshold": 99}}, "gate.threshold: a fraction from 0 to 1"),
    ({"gate": {"window": 3}}, "gate.window: unknown key"),
    ({"types": {"invoice": {"case_sensitive": "yes"}}}, "case_sensitive: expected true"),
    ({"types": []}, "reconcile.types: expected a table"),
    ({"grace_hours": 10_000}, "grace_hours: at most 744 hours"),
])
def test_bad_config_names_the_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ReconcileConfig.from_table(table)


def test_config_from_profile_toml() -> None:
    text = """
id = "alpen-gaskets"
[reconcile]
grace_hours = 4
quantity_abs = 0.5
[reconcile.gate]
window_days = 3
min_documents = 10
threshold = 0.95
[reconcile.types.invoice]
amount_abs = 0.01
gate = { threshold = 0.999 }
"""
    config = ReconcileConfig.from_toml(text, where="alpen-gaskets.toml")
    assert config.rules.grace.total_seconds() == 4 * 3600
    assert config.gate_for("purchase_order").threshold == 0.95
    invoice_gate = config.gate_for("invoice")
    assert (invoice_gate.threshold, invoice_gate.window_days) == (0.999, 3)
    assert config.rules_for("invoice").quantity_abs == config.rules.quantity_abs
    with pytest.raises(ConfigError, match=r"alpen-gaskets\.toml: not valid TOML"):
        ReconcileConfig.from_toml("[reconcile", where="alpen-gaskets.toml")


def test_hostile_values_give_differences_not_tracebacks() -> None:
    edi = purchase_order()
    api = variant(edi)
    api["lines"][0]["quantity"] = "NaN"
    api["lines"][1]["quantity"] = "9" * 5000
    api["order_date"] = "2024-13-45"
    api["parties"] = {"not": "a list"}
    found = {p for p, _ in diffs(edi, api)}
    assert found == {"lines[10].quantity", "lines[20].quantity", "order_date", "parties"}


def test_differences_of_unequal_documents_are_what_compare_finds() -> None:
    # The engine compares a pair once and asks for differences() only when they are unequal.
    comparator = Comparator(ReconcileConfig().rules_for("purchase_order"))
    edi, api = line(quantity=501, buyer_part=" gsk-100 ")
    api["lines"].reverse()
    api["extra"] = None  # null on one side equals absent
    found = comparator.differences(edi, api)
    assert found == comparator.compare(edi, api)
    assert [(d.path, d.edi, d.api) for d in found] == [("lines[10].quantity", 500, 501)]
    assert comparator.compare(edi, variant(edi)) == []
