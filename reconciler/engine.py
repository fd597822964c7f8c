"""Pair the EDI-path and API-path events of one partner and classify every pair or orphan.

A hash join on (document type, business key): each path's first copy of a document (earliest
``recorded_at``) is its representative; later copies on the same path are ``duplicate``s,
compared against the first so a conflicting resend shows its differences.

Timing: a document belongs to the window by its business time (the earlier of the two copies).
The second path has ``grace`` (per document type) after the first copy arrived; a copy later
than that is ``late``, and when the grace has passed at ``as_of`` with no copy at all the
document is ``missing_api`` / ``missing_edi`` — before that it is ``pending`` and not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta

from reconciler.compare import Comparator
from reconciler.config import ReconcileConfig, UnitTable, default_units
from reconciler.coverage import Coverage
from reconciler.model import API, EDI, EventRecord, FieldDifference, Outcome, Result, Window

DocKey = tuple[str, str]  # (document type, business key)


class Reconciler:
    """Reusable: holds one comparator per document type (they cache field decisions)."""

    def __init__(self, config: ReconcileConfig | None = None,
                 units: UnitTable | None = None,
                 declared: Mapping[str, Mapping[str, frozenset[str]]] | None = None) -> None:
        """``declared``: per document type and path, every field that path can carry (the
        partner's EDI map, read by the caller); see :mod:`reconciler.coverage`."""
        self.config = config or ReconcileConfig()
        self.declared = dict(declared or {})
        self.units = units or default_units()
        self._comparators: dict[str, Comparator] = {}
        self._graces: dict[str, timedelta] = {}
        # Per run: both paths' first copies, and the coverage learned from them (lazily,
        # for a document type the first time a field is missing on one side).
        self._sides: tuple[dict[DocKey, EventRecord], dict[DocKey, EventRecord]] = ({}, {})
        self.coverage: dict[str, Coverage] = {}

    def coverage_of(self, document_type: str) -> Coverage:
        """Which fields each path of ``document_type`` carries, over this run's documents."""
        found = self.coverage.get(document_type)
        if found is None:
            rules = self.config.rules_for(document_type)
            found = Coverage(document_type, lacks={EDI: rules.edi_lacks, API: rules.api_lacks},
                             declared=dict(self.declared.get(document_type, {})))
            edi, api = self._sides
            found.extend(EDI, (e.data for k, e in edi.items() if k[0] == document_type))
            found.extend(API, (a.data for k, a in api.items() if k[0] == document_type))
            self.coverage[document_type] = found
        return found

    def comparable(self, document_type: str, differences: list[FieldDifference]
                   ) -> tuple[tuple[FieldDifference, ...], tuple[str, ...]]:
        """The differences on fields both paths carry, and the fields left out."""
        if not any(d.rule == "missing_field" for d in differences):
            return tuple(differences), ()
        coverage = self.coverage_of(document_type)
        kept: list[FieldDifference] = []
        left_out: set[str] = set()
        for d in differences:
            if d.rule == "missing_field":
                name = d.field
                if not coverage.comparable(name):
                    left_out.add(name)
                    continue
            kept.append(d)
        return tuple(kept), tuple(sorted(left_out))

    def comparator(self, document_type: str) -> Comparator:
        found = self._comparators.get(document_type)
        if found is None:
            found = Comparator(self.config.rules_for(document_type), self.units)
            self._comparators[document_type] = found
        return found

    def _grace(self, doc_type: str) -> timedelta:
        grace = self._graces.get(doc_type)
        if grace is None:
            grace = self._graces[doc_type] = self.config.rules_for(doc_type).grace
        return grace

    def run(self, events: Iterable[EventRecord], window: Window, *,
            as_of: datetime) -> Iterator[Result]:
        """Results for every document of ``window``, streamed in no particular order."""
        # The loops below run once per event and once per document (a million times a
        # night for a busy partner): names are bound locally and the common case, two
        # identical copies in time, is classified inline; everything else goes through
        # _pair, the one place that spells out the rules.
        edi: dict[DocKey, EventRecord] = {}
        api: dict[DocKey, EventRecord] = {}
        extra: list[EventRecord] = []
        for event in events:
            path = event.path
            if path == EDI:
                side = edi
            elif path == API:
                side = api
            else:
                raise ValueError(f"event {event.id}: path {event.path!r} is neither "
                                 f"'edi' nor 'api'")
            key = (event.type, event.business_key)
            known = side.get(key)
            if known is None:
                side[key] = event
            elif (event.recorded_at, event.id) < (known.recorded_at, known.id):
                side[key] = event
                extra.append(known)
            else:
                extra.append(event)

        self._sides = (edi, api)
        self.coverage = {}
        start, end = window.start, window.end
        graces = self._graces
        match, pair, utc = Outcome.MATCH, self._pair, UTC
        for key, e in edi.items():
            a = api.get(key)
            if a is None:
                if start <= e.time < end:
                    yield pair(key, e, None, e.time, as_of)
                continue
            anchor = e.time if e.time <= a.time else a.time
            if not start <= anchor < end:
                continue
            doc_type = key[0]
            grace = graces.get(doc_type)
            if grace is None:
                grace = self._grace(doc_type)
            delay = a.recorded_at - e.recorded_at
            if delay.days < 0:  # abs() of a timedelta, without the call
                delay = -delay
            same = e.data == a.data  # the one deep comparison of the pair
            if same and delay <= grace:
                day = anchor.date() if anchor.tzinfo is utc else _utc_day(anchor)
                yield Result(match, doc_type, key[1], day, e.partner_id or a.partner_id,
                             e.id, a.id, (), delay, None, "")
            else:
                yield pair(key, e, a, anchor, as_of, same)
        for key, a in api.items():
            if key not in edi and start <= a.time < end:
                yield pair(key, None, a, a.time, as_of)
        for copy in extra:
            key = (copy.type, copy.business_key)
            edi_first, api_first = edi.get(key), api.get(key)
            times = [x.time for x in (edi_first, api_first) if x is not None]
            anchor = min(times)
            if anchor in window:
                first = edi_first if copy.path == EDI else api_first
                assert first is not None  # a copy exists only beside a first one
                yield self._duplicate(copy, first, anchor)

    def _pair(self, key: DocKey, e: EventRecord | None, a: EventRecord | None,
              anchor: datetime, as_of: datetime, same: bool | None = None) -> Result:
        """``same``: whether both copies' data are equal, when the caller already knows."""
        doc_type, business_key = key
        day = _utc_day(anchor)
        grace = self._grace(doc_type)
        if e is None or a is None:
            only = e if e is not None else a
            assert only is not None
            waited = as_of - only.recorded_at
            if waited <= grace:
                outcome = Outcome.PENDING
                note = f"only the {only.path.upper()} copy so far; grace ends " \
                       f"{(only.recorded_at + grace).isoformat()}"
            else:
                outcome = Outcome.MISSING_API if e is not None else Outcome.MISSING_EDI
                other = "API" if e is not None else "EDI"
                note = f"no {other} copy {_hours(grace)} after the " \
                       f"{only.path.upper()} copy arrived"
            return Result(outcome, doc_type, business_key, day, only.partner_id,
                          e.id if e else None, a.id if a else None, note=note)
        if same is None:
            same = e.data == a.data
        differences: tuple[FieldDifference, ...] = ()
        uncompared: tuple[str, ...] = ()
        if not same:
            differences, uncompared = self.comparable(
                doc_type, self.comparator(doc_type).differences(e.data, a.data))
        delay = abs(a.recorded_at - e.recorded_at)
        if delay > grace:
            later = "API" if a.recorded_at > e.recorded_at else "EDI"
            outcome, note = Outcome.LATE, f"{later} copy {_hours(delay)} after the other " \
                                          f"(grace {_hours(grace)})"
        elif differences:
            outcome, note = Outcome.MISMATCH, f"{len(differences)} field(s) differ"
        else:
            outcome, note = Outcome.MATCH, ""
        return Result(outcome, doc_type, business_key, day, e.partner_id or a.partner_id,
                      e.id, a.id, differences, delay, note=note, uncompared=uncompared)

    def _duplicate(self, copy: EventRecord, first: EventRecord, anchor: datetime) -> Result:
        differences, _ = self.comparable(
            copy.type, self.comparator(copy.type).compare(first.data, copy.data))
        note = (f"conflicting second {copy.path.upper()} copy: {len(differences)} field(s) "
                "differ from the first" if differences
                else f"identical second {copy.path.upper()} copy")
        return Result(Outcome.DUPLICATE, copy.type, copy.business_key,
                      _utc_day(anchor), copy.partner_id,
                      copy.id if copy.path == EDI else None,
                      copy.id if copy.path == API else None, differences,
                      copy.recorded_at - first.recorded_at, duplicate_of=first.id, note=note)


def _utc_day(moment: datetime) -> date:
    return moment.date() if moment.tzinfo is UTC else moment.astimezone(UTC).date()


def _hours(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def reconcile(events: Iterable[EventRecord], window: Window, *, as_of: datetime,
              config: ReconcileConfig | None = None) -> list[Result]:
    """All results of one window as a list (see :class:`Reconciler` to stream)."""
    return list(Reconciler(config).run(events, window, as_of=as_of))
