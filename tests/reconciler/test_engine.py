"""Every outcome class, with concrete purchase orders and invoices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from reconciler import (
    ConfigError,
    Outcome,
    ReconcileConfig,
    Reconciler,
    Result,
    Statistics,
    Window,
    reconcile,
)
from tests.reconciler.documents import (
    DAY,
    LATER,
    T0,
    event,
    invoice,
    pair,
    purchase_order,
    variant,
)


def only(results: list[Result]) -> Result:
    assert len(results) == 1, results
    return results[0]


def test_identical_copies_match() -> None:
    result = only(reconcile(pair(purchase_order(), purchase_order()), DAY, as_of=LATER))
    assert result.outcome is Outcome.MATCH
    assert (result.edi_id, result.api_id) == ("edi-1", "api-1")
    assert result.delay == timedelta(minutes=3)
    assert result.day.isoformat() == "2024-03-04"


def test_changed_quantity_is_a_mismatch_naming_the_line() -> None:
    api = variant(purchase_order())
    api["lines"][1]["quantity"] = 13
    result = only(reconcile(pair(purchase_order(), api), DAY, as_of=LATER))
    assert result.outcome is Outcome.MISMATCH
    [difference] = result.differences
    assert difference.path == "lines[20].quantity"
    assert (difference.edi, difference.api) == (12.5, 13)
    assert difference.rule == "quantity equal (6 decimals)"
    assert difference.field == "lines.quantity"


def test_a_line_only_on_one_path_is_a_difference() -> None:
    api = variant(purchase_order())
    del api["lines"][0]
    result = only(reconcile(pair(purchase_order(), api), DAY, as_of=LATER))
    assert result.outcome is Outcome.MISMATCH
    [difference] = result.differences
    assert (difference.path, difference.rule, difference.api) == ("lines[10]", "missing_line",
                                                                  None)
    assert difference.edi["buyer_part"] == "GSK-100"


def test_missing_api_copy_after_the_grace() -> None:
    events = [event("edi-1", "edi", purchase_order())]
    result = only(reconcile(events, DAY, as_of=T0 + timedelta(hours=2)))
    assert result.outcome is Outcome.MISSING_API
    assert result.api_id is None
    assert "no API copy 1.0 h after the EDI copy" in result.note


def test_missing_edi_copy_after_the_grace() -> None:
    events = [event("api-1", "api", purchase_order())]
    result = only(reconcile(events, DAY, as_of=T0 + timedelta(hours=2)))
    assert result.outcome is Outcome.MISSING_EDI
    assert result.edi_id is None


def test_orphan_inside_the_grace_is_pending_not_missing() -> None:
    events = [event("edi-1", "edi", purchase_order())]
    result = only(reconcile(events, DAY, as_of=T0 + timedelta(minutes=59)))
    assert result.outcome is Outcome.PENDING
    stats = Statistics().extend([result]).rows()[0]
    assert (stats.total, stats.decided, stats.agreement) == (1, 0, None)


def test_late_copy_is_late_even_when_fields_agree() -> None:
    events = pair(purchase_order(), purchase_order(), api_delay=timedelta(hours=3))
    result = only(reconcile(events, DAY, as_of=LATER))
    assert result.outcome is Outcome.LATE
    assert result.delay == timedelta(hours=3)
    assert result.note == "API copy 3.0 h after the other (grace 1.0 h)"


def test_late_copy_keeps_its_differences() -> None:
    api = variant(purchase_order())
    api["currency"] = "USD"
    events = pair(purchase_order(), api, api_delay=timedelta(hours=3))
    result = only(reconcile(events, DAY, as_of=LATER))
    assert result.outcome is Outcome.LATE
    assert [d.path for d in result.differences] == ["currency"]


def test_grace_is_configured_per_document_type() -> None:
    config = ReconcileConfig.from_table({"types": {"purchase_order": {"grace_hours": 4}}})
    events = pair(purchase_order(), purchase_order(), api_delay=timedelta(hours=3))
    assert only(reconcile(events, DAY, as_of=LATER, config=config)).outcome is Outcome.MATCH
    inv = pair(invoice(), invoice(), doc_type="invoice", api_delay=timedelta(hours=3))
    assert only(reconcile(inv, DAY, as_of=LATER, config=config)).outcome is Outcome.LATE


def test_identical_resend_is_a_duplicate_of_the_first_copy() -> None:
    events = [*pair(purchase_order(), purchase_order()),
              event("api-2", "api", purchase_order(), delay=timedelta(minutes=30))]
    results = reconcile(events, DAY, as_of=LATER)
    by_outcome = {r.outcome: r for r in results}
    assert set(by_outcome) == {Outcome.MATCH, Outcome.DUPLICATE}
    duplicate = by_outcome[Outcome.DUPLICATE]
    assert (duplicate.api_id, duplicate.duplicate_of, duplicate.edi_id) == ("api-2", "api-1",
                                                                           None)
    assert duplicate.differences == ()
    assert duplicate.note == "identical second API copy"


def test_conflicting_resend_names_its_differences_and_the_earliest_copy_wins() -> None:
    changed = variant(purchase_order())
    changed["lines"][0]["quantity"] = 600
    # Handed in out of order: the copy recorded first is the one that is paired.
    events = [event("edi-2", "edi", changed, delay=timedelta(minutes=10)),
              *pair(purchase_order(), purchase_order())]
    results = reconcile(events, DAY, as_of=LATER)
    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes == ["duplicate", "match"]
    duplicate = next(r for r in results if r.outcome is Outcome.DUPLICATE)
    assert duplicate.edi_id == "edi-2" and duplicate.duplicate_of == "edi-1"
    assert [d.path for d in duplicate.differences] == ["lines[10].quantity"]


def test_documents_outside_the_window_are_left_out() -> None:
    yesterday = T0 - timedelta(days=1)
    events = [event("edi-1", "edi", purchase_order("PO-1"), time=yesterday),
              event("edi-2", "edi", purchase_order("PO-2"))]
    results = reconcile(events, DAY, as_of=LATER)
    assert [r.business_key for r in results] == ["PO-2"]


def test_a_pair_belongs_to_the_window_of_its_earlier_copy() -> None:
    # EDI copy on the 4th at 23:50, API copy on the 5th at 00:05: one pair, on the 4th.
    late_evening = datetime(2024, 3, 4, 23, 50, tzinfo=UTC)
    events = [event("edi-1", "edi", purchase_order(), time=late_evening),
              event("api-1", "api", purchase_order(), time=late_evening + timedelta(minutes=15))]
    assert only(reconcile(events, DAY, as_of=LATER)).outcome is Outcome.MATCH
    next_day = Window(DAY.end, DAY.end + timedelta(days=1))
    assert reconcile(events, next_day, as_of=LATER) == []


def test_same_key_of_different_types_never_pairs() -> None:
    po = purchase_order("4711")
    inv = invoice("4711")
    events = [event("edi-1", "edi", po, key="4711"),
              event("api-1", "api", inv, doc_type="invoice", key="4711")]
    outcomes = sorted(r.outcome.value for r in reconcile(events, DAY, as_of=LATER))
    assert outcomes == ["missing_api", "missing_edi"]


def test_statistics_per_day_with_most_frequent_fields() -> None:
    events = []
    for n in range(10):
        edi = purchase_order(f"PO-{n}")
        api = variant(edi)
        if n < 3:
            api["lines"][0]["quantity"] += 1
            api["lines"][1]["quantity"] += 1  # same field twice: one document
        if n == 3:
            api["currency"] = "USD"
        events += [event(f"e{n}", "edi", edi), event(f"a{n}", "api", api)]
    events.append(event("e-orphan", "edi", purchase_order("PO-X")))
    [row] = Statistics().extend(reconcile(events, DAY, as_of=LATER)).rows()
    assert row.counts["match"] == 6 and row.counts["mismatch"] == 4
    assert row.counts["missing_api"] == 1
    assert row.decided == 11
    assert row.agreement == pytest.approx(6 / 11)
    assert row.top_fields() == [("lines.quantity", 3), ("currency", 1)]
    assert row.to_dict()["top_fields"][0] == {"field": "lines.quantity", "documents": 3}


def test_statistics_extend_counts_like_add_one_result_at_a_time() -> None:
    # extend() is add() unrolled for speed: both must give the same rows.
    events = []
    for n in range(6):
        edi = purchase_order(f"PO-{n}")
        api = variant(edi)
        if n % 2:
            api["lines"][n % 2]["quantity"] += n
            api["currency"] = "USD"
        at = T0 + timedelta(hours=4 * n)
        events += [event(f"e{n}", "edi", edi, time=at),
                   event(f"a{n}", "api", api, time=at, delay=timedelta(hours=n % 3 * 2))]
    events.append(event("e-orphan", "edi", purchase_order("PO-X")))
    results = reconcile(events, Window(T0, T0 + timedelta(days=2)), as_of=LATER)
    one_by_one = Statistics()
    for result in results:
        one_by_one.add(result)
    rows = [r.to_dict(10) for r in Statistics().extend(results).rows()]
    assert rows == [r.to_dict(10) for r in one_by_one.rows()]
    assert len(rows) == 2 and {o for r in rows for o, n in r["counts"].items() if n} == \
        {"match", "mismatch", "late", "missing_api"}


def test_api_copy_first_and_other_time_zones_classify_as_in_utc() -> None:
    # The common case (identical copies in time) is classified on a fast path: it must agree
    # with the rules on the order of arrival and on the UTC day.
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2024, 3, 5, 1, 30, tzinfo=plus_two)  # 2024-03-04 23:30 UTC
    edi = event("edi-1", "edi", purchase_order(), time=local, delay=timedelta(minutes=10))
    api = event("api-1", "api", purchase_order(), time=local)  # arrived 10 min earlier
    result = only(reconcile([edi, api], DAY, as_of=LATER))
    assert result.outcome is Outcome.MATCH
    assert result.delay == timedelta(minutes=10)
    assert result.day.isoformat() == "2024-03-04"
    assert (result.differences, result.note, result.duplicate_of) == ((), "", None)
    late = event("edi-2", "edi", purchase_order(), time=local, delay=timedelta(hours=2))
    result = only(reconcile([late, api], DAY, as_of=LATER))
    assert result.outcome is Outcome.LATE and "EDI copy 2.0 h after the other" in result.note


def test_unknown_path_is_refused_with_the_event_id() -> None:
    bad = event("x-1", "edi", purchase_order())
    bad = type(bad)(bad.id, bad.type, "ftp", bad.business_key, bad.time, bad.recorded_at,
                    bad.data)
    with pytest.raises(ValueError, match="event x-1: path 'ftp'"):
        reconcile([bad], DAY, as_of=LATER)


def test_window_must_not_be_empty() -> None:
    with pytest.raises(ValueError, match="is not after its start"):
        Window(T0, T0)


def test_reconciler_is_reusable_across_runs() -> None:
    engine = Reconciler(ReconcileConfig())
    first = list(engine.run(pair(purchase_order(), purchase_order()), DAY, as_of=LATER))
    api = variant(purchase_order())
    api["lines"][0]["unit_price"] = 0.43
    second = list(engine.run(pair(purchase_order(), api), DAY, as_of=LATER))
    assert [r.outcome for r in first + second] == [Outcome.MATCH, Outcome.MISMATCH]


def test_config_error_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"reconcile.types.invoice.amount_rel: expected a "
                                          r"number, got 'lots'"):
        ReconcileConfig.from_table({"types": {"invoice": {"amount_rel": "lots"}}})
