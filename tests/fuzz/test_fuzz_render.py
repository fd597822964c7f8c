"""Property-based fuzzing of rendering: any payload is either refused with a one-line
RenderError or written as a document our parser reads back; well-formed payloads validate."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz import harness
from tests.fuzz.conftest import PROFILE

fuzz_settings = settings(settings.get_profile(PROFILE))

SAFE = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=12)
HOSTILE = st.one_of(st.text(max_size=60), st.integers(), st.floats(allow_nan=True),
                    st.none(), st.booleans(), st.lists(st.integers(), max_size=3),
                    st.sampled_from(["9" * 400, "\u00b2", "'+:?*~>^", "2024-02-30", "", " "]))
DATES = st.dates().map(lambda d: d.isoformat())
QUANTITIES = st.one_of(st.integers(0, 10**6), st.decimals(0, 10**6, places=3).map(float))
UNITS = st.sampled_from(["EA", "KGM", "PCE", "each", "kg"])


def _line(value: st.SearchStrategy[Any], number: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"line_number": st.just(str(number)), "quantity": QUANTITIES},
        optional={"buyer_part": value, "supplier_part": value, "unit": UNITS,
                  "unit_price": QUANTITIES, "requested_delivery_date": DATES,
                  "description": value, "gtin": st.sampled_from(["04000862141404", "x"])})


def _payloads(value: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, Any]]:
    order = st.fixed_dictionaries(
        {"order_number": value, "order_date": DATES,
         "lines": st.lists(st.integers(1, 99), min_size=1, max_size=3).flatmap(
             lambda ns: st.tuples(*(_line(value, n) for n in ns)).map(list))},
        optional={"purpose": st.sampled_from(["original", "replace", "cancel"]),
                  "currency": st.sampled_from(["EUR", "USD"])})
    period = st.fixed_dictionaries({"start": DATES, "quantity": QUANTITIES},
                                   optional={"end": DATES,
                                             "commitment": st.sampled_from(["firm", "planned"])})
    schedule = st.fixed_dictionaries(
        {"schedule_number": value, "schedule_type": st.sampled_from(["forecast", "firm"]),
         "items": st.lists(st.fixed_dictionaries(
             {"buyer_part": value, "periods": st.lists(period, min_size=1, max_size=3)},
             optional={"unit": UNITS}), min_size=1, max_size=2)},
        optional={"issue_date": DATES})
    change = st.fixed_dictionaries({"order_number": value, "change_number": value,
                                    "lines": st.lists(_line(value, 1), max_size=2)})
    return st.one_of(st.tuples(st.just("purchase_order"), order),
                     st.tuples(st.just("delivery_schedule"), schedule),
                     st.tuples(st.just("order_change"), change))


@fuzz_settings
@given(case=_payloads(st.one_of(SAFE, HOSTILE)),
       profile=st.sampled_from(harness.RENDER_PROFILES))
def test_render_refuses_or_writes_what_we_read(case: tuple[str, Any],
                                               profile: tuple[str, str]) -> None:
    harness.check_render(case[0], case[1], *profile)


@fuzz_settings
@given(case=st.one_of(st.dictionaries(st.text(max_size=10), HOSTILE, max_size=5),
                      HOSTILE.map(lambda v: {"order_number": v, "lines": v})),
       event_type=st.sampled_from(["purchase_order", "order_change", "delivery_schedule"]),
       profile=st.sampled_from(harness.RENDER_PROFILES))
def test_render_of_shapeless_payloads(case: Any, event_type: str,
                                      profile: tuple[str, str]) -> None:
    harness.check_render(event_type, case, *profile)
