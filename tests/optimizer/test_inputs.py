"""Supply-state JSON, freshness handling, lead-time statistics and safety stock."""

from __future__ import annotations

import json
import math
import statistics
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer import (
    Delivery,
    FreshnessPolicy,
    LeadTimeStats,
    Offer,
    Part,
    PlanOptions,
    Provenance,
    Receipt,
    StateError,
    Supplier,
    SupplyState,
    apply_freshness,
    dumps,
    generate,
    lead_time_stats,
    loads,
    plan,
    safety_stock,
    safety_stocks,
    service_z,
    state_to_dict,
)

NOW = datetime(2026, 3, 2, 12, 0)


def test_json_round_trip_keeps_everything():
    state = generate(8, 3, 6, seed=4, budget=True, start=date(2026, 3, 2))
    unlimited = Supplier("S01", (math.inf,) * 6, source=Provenance(("e1",), NOW))
    state = SupplyState(**{**state.__dict__, "suppliers": (unlimited, *state.suppliers[1:])})
    again = loads(dumps(state))
    assert again == state


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("periods"), "$.periods: missing"),
        (lambda d: d["parts"][0].update(demand=[1, "x", 3, 4, 5, 6]), "$.parts[0].demand[1]"),
        (lambda d: d["parts"][0].update(demand=[1, 2]), "demand has 2 periods"),
        (lambda d: d["offers"][0].update(supplier="nobody"), "unknown supplier 'nobody'"),
        (lambda d: d["offers"][0].update(multiple=0), "multiple must be at least 1"),
        (lambda d: d["receipts"].append({"part": "P0001", "supplier": "S01", "quantity": -3,
                                          "arrival_period": 0}), "quantity must not be negative"),
        (lambda d: d["suppliers"][0].update(capacity="lots"), "$.suppliers[0].capacity"),
        (lambda d: d.update(format="other/9"), "$.format"),
        (lambda d: d["parts"][0].update(stock_source={"as_of": "yesterday"}), "as_of"),
    ],
)
def test_bad_json_gets_a_precise_error(mutate, message):
    data = state_to_dict(generate(3, 2, 6, seed=1))
    mutate(data)
    with pytest.raises(StateError) as err:
        loads(json.dumps(data))
    assert message in str(err.value)


@pytest.mark.parametrize("text", [b"", b"{", b"[]", b"\xff\xfe", b'{"format": 3}'])
def test_garbage_is_a_state_error(text):
    with pytest.raises(StateError):
        loads(text)


def _stale_state() -> SupplyState:
    old, fresh = NOW - timedelta(days=10), NOW - timedelta(hours=1)
    return SupplyState(
        periods=4,
        parts=(Part("P", (40, 40, 40, 40), on_hand=100, stock_source=Provenance(("inv-1",), old),
                    demand_source=Provenance(("dem-1",), old)),),
        suppliers=(Supplier("A", (50.0,) * 4,
                            source=Provenance(("cap-1",), NOW - timedelta(days=20))),),
        offers=(Offer("P", "A", 1.0),),
        receipts=(
            Receipt("P", "A", 40, 1, "in_transit", "ASN-1", Provenance(("asn-1",), old)),
            Receipt("P", "A", 30, 2, "confirmation", "PO-2", Provenance(("ordrsp-2",), old)),
            Receipt("P", "A", 20, 2, "in_transit", "ASN-3", Provenance(("asn-3",), fresh)),
        ),
    )


def test_stale_inputs_are_flagged_and_made_conservative():
    adjusted, found = apply_freshness(_stale_state(), FreshnessPolicy(), NOW)
    kinds = sorted(item.kind for item in found)
    assert kinds == ["capacity", "confirmation", "demand", "in_transit", "stock"]
    assert adjusted.parts[0].on_hand == 90  # 10% margin
    assert adjusted.suppliers[0].capacity == (25.0,) * 4
    receipts = {r.order_ref: r for r in adjusted.receipts}
    assert "PO-2" not in receipts  # stale confirmation not counted on
    assert (receipts["ASN-1"].quantity, receipts["ASN-1"].arrival_period) == (20, 2)
    assert receipts["ASN-3"].quantity == 20  # fresh: untouched
    demand = next(item for item in found if item.kind == "demand")
    assert demand.age == timedelta(days=10) and "as is" in demand.action


def test_missing_timestamps_count_as_stale_only_when_required():
    state = SupplyState(periods=1, parts=(Part("P", (1,), on_hand=10),), suppliers=(),
                        offers=())
    assert apply_freshness(state, FreshnessPolicy(), NOW)[1] == []
    adjusted, found = apply_freshness(state, FreshnessPolicy(require_timestamp=True), NOW)
    assert [f.kind for f in found] == ["stock", "demand"] and found[0].age is None
    assert adjusted.parts[0].on_hand == 9


def test_plan_orders_more_when_inputs_are_stale_and_says_so():
    state = _stale_state()
    trusting = plan(state, PlanOptions(method="milp"))
    careful = plan(state, PlanOptions(method="milp"), now=NOW, freshness=FreshnessPolicy())
    assert sum(ln.quantity for ln in careful.lines) > sum(ln.quantity for ln in trusting.lines)
    assert any("in transit counted as 20" in s for s in careful.stale)
    assert not trusting.stale


def test_lead_time_statistics_per_part_and_supplier():
    d0 = date(2026, 1, 1)
    history = [Delivery("P", "A", d0, d0 + timedelta(days=n)) for n in (4, 6, 8)] + [
        Delivery("P", "B", d0, d0 + timedelta(days=14)),
    ]
    stats = lead_time_stats(history, period_days=2)
    assert stats[("P", "A")] == LeadTimeStats(3, 3.0, statistics.stdev([2, 3, 4]))
    assert stats[("P", "B")] == LeadTimeStats(1, 7.0, 0.0)
    with pytest.raises(ValueError, match="before it was ordered"):
        lead_time_stats([Delivery("P", "A", d0, d0 - timedelta(days=1))])


def test_safety_stock_formula():
    demand = [10, 14, 6, 12, 8]
    lt = LeadTimeStats(5, 4.0, 1.0)
    z = statistics.NormalDist().inv_cdf(0.95)
    expected = z * math.sqrt(4.0 * statistics.stdev(demand) ** 2 + 10.0**2 * 1.0**2)
    assert safety_stock(demand, lt, 0.95) == math.ceil(expected)
    assert service_z(0.5) == pytest.approx(0.0)
    assert safety_stock(demand, lt, 0.99) > safety_stock(demand, lt, 0.95)
    with pytest.raises(ValueError):
        service_z(1.0)


def test_safety_stocks_pool_suppliers_and_honour_overrides():
    stats = {("P", "A"): LeadTimeStats(2, 2.0, 0.0), ("P", "B"): LeadTimeStats(2, 4.0, 0.0),
             ("Q", "A"): LeadTimeStats(1, 1.0, 0.0)}
    demand = {"P": [10, 10, 10], "Q": [5, 7], "R": [3, 3]}
    out = safety_stocks(demand, stats, 0.9, overrides={"Q": 42})
    # P: constant demand, pooled lead time mean 3, spread 1 (between-supplier): z*10*1.
    assert out["P"] == math.ceil(service_z(0.9) * 10.0)
    assert out["Q"] == 42
    assert out["R"] == 0  # no lead-time history: no formula value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_hostile_json_never_crashes(data):
    base = state_to_dict(generate(2, 2, 3, seed=1))
    # Replace one random field (at any depth) with arbitrary JSON.
    node = base
    path = []
    while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(node) if isinstance(node, dict)
                                        else list(range(len(node)))))
        path.append(key)
        node = node[key]
    if path:
        target = base
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = data.draw(json_values)
    try:
        state = loads(json.dumps(base))
    except StateError:
        return
    assert isinstance(state, SupplyState)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("price", float("inf"), "usable number"), ("price", -1.0, "price must not be negative")],
)
def test_non_finite_or_negative_prices_are_rejected(field, value, message):
    data = state_to_dict(generate(2, 2, 3, seed=1))
    data["offers"][0][field] = value
    with pytest.raises(StateError, match=message):
        loads(json.dumps(data))
