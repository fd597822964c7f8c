"""Process one committed interchange: translate, check identity, store events and acks.

Everything one interchange causes — its events, its acknowledgments (as outbound interchanges
plus outbox rows), its status and error report — is written in ONE transaction that starts by
claiming the row (``status = 'received'``). A crash anywhere rolls the whole step back and the
row stays ``received`` for the resume job; a second run finds it claimed and does nothing.
That is promise 2 for inbound documents.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, select, update
from sqlalchemy.orm import Session, defer, sessionmaker

from gateway.broker.outbox import enqueue_publication
from gateway.domain.causes import acknowledging, acknowledgments_of
from gateway.domain.states import InterchangeStatus, OutboxStatus
from gateway.inbox.poison import RetryPolicy, record_failure
from gateway.inbox.spool import load_blob
from gateway.inbox.store import raw_bytes, store_outbound
from gateway.observability import metrics
from gateway.observability.logging import bind_correlation
from gateway.outbound.acks import apply_functional_ack
from gateway.outbound.routing import RoutingError, edi_channel
from gateway.pipeline.identity import check_sender, refuse_foreign_receivers
from gateway.pipeline.limits import (
    BUSINESS_KEY_LIMIT,
    ENVELOPE_LIMITS,
    bounded_error_report,
    envelope_faults,
    fit,
)
from gateway.pipeline.overlays import overlays_for
from gateway.planning.triggers import on_event_stored
from gateway.search.refs import index_event
from gateway.storage.models import Event, Interchange, OutboxItem, Partner
from gateway.storage.repositories import allocate_control_numbers
from gateway.storage.retry import SCOPES, lock_counters, retry_on_conflict
from schemas import default_registry
from schemas.envelope import edi_event_envelope
from translators import TranslationResult, build_acknowledgments, translate

log = logging.getLogger("edigate.pipeline")

# Fixed namespace so the same message of the same interchange always gets the same event id.
EVENT_NAMESPACE = uuid.UUID("6f1c2a56-0d2e-4a8e-9b8a-4f7e1f0c9d11")

STATUS_PROCESSED = InterchangeStatus.PROCESSED
STATUS_PARTIAL = InterchangeStatus.PARTIAL
STATUS_REJECTED = InterchangeStatus.REJECTED
STATUS_QUARANTINED = InterchangeStatus.QUARANTINED


@dataclass
class Outcome:
    interchange_id: str
    status: str
    detail: str = ""
    http_status: int = 200
    event_ids: list[str] = field(default_factory=list)
    ack_ids: list[str] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    error_report: dict[str, Any] | None = None
    already_done: bool = False
    # False when acknowledgments were not queued (a replay of an outcome already answered).
    acks_sent: bool = True
    # A replay's word on the acknowledgment (sent, or why not).
    replay_note: str = ""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "interchange_id": self.interchange_id,
            "status": self.status,
            "events": self.event_ids,
            "acknowledgments": self.ack_ids,
            "messages": self.messages,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.error_report:
            body["errors"] = self.error_report
        if self.replay_note:
            body["acknowledgment"] = self.replay_note
        return body


def _claim(session: Session, interchange_ids: list[str]) -> dict[str, Interchange]:
    """Claim every row of ``interchange_ids`` still waiting, in two statements whatever their
    number: one ``UPDATE … RETURNING`` (it takes the row locks on PostgreSQL, so a row another
    process holds is waited for, then found no longer waiting) and one read of the claimed
    rows without their raw bytes (translation read them already; a mismatch loads them)."""
    claimed = list(session.execute(_CLAIM, {"c_ids": interchange_ids}).scalars())
    if not claimed:
        return {}
    rows = session.scalars(_CLAIMED, {"c_ids": claimed})
    return {row.id: row for row in rows}


_TABLE = cast(Table, Interchange.__table__)
_CLAIM = (update(_TABLE).where(_TABLE.c.id.in_(bindparam("c_ids", expanding=True)),
                               _TABLE.c.status == InterchangeStatus.RECEIVED)
          .values(attempts=_TABLE.c.attempts + 1).returning(_TABLE.c.id))
_CLAIMED = (select(Interchange).where(Interchange.id.in_(bindparam("c_ids", expanding=True)))
            .options(defer(Interchange.raw)))


def outcome_of(session: Session, interchange: Interchange) -> Outcome:
    """The stored result of an interchange, as the original answer reported it."""
    events = session.scalars(select(Event.id).where(Event.interchange_id == interchange.id)
                             .order_by(Event.id)).all()
    acks = session.scalars(select(OutboxItem.interchange_id).where(
        acknowledgments_of(interchange.id))).all()
    report = interchange.error_report or {}
    return Outcome(
        interchange_id=interchange.id, status=interchange.status,
        detail=interchange.status_detail, http_status=_http_status(interchange.status,
                                                                   report),
        event_ids=list(events), ack_ids=[a for a in acks if a],
        messages=list(report.get("messages", [])), error_report=report.get("report"),
        already_done=True,
    )


def _http_status(status: str, report: dict[str, Any]) -> int:
    if status == STATUS_QUARANTINED:
        return int(report.get("http_status", 422))
    if status == STATUS_REJECTED:
        return 422
    if status == InterchangeStatus.RECEIVED:
        return 202
    return 200


@dataclass(frozen=True)
class Prepared:
    """An interchange translated and its events checked against their schemas, before any
    write transaction: the CPU-heavy part of processing, done without holding a lock."""

    interchange_id: str
    sha256: str
    result: TranslationResult
    schema_problems: list[list[dict[str, Any]]]
    # Read with its identities in the same snapshot, so the write transaction need not.
    partner: Partner | None = None


def _translate(raw: bytes, partner: Partner | None) -> tuple[TranslationResult,
                                                            list[list[dict[str, Any]]]]:
    result = translate(raw, overlays=overlays_for(partner), lenient=True)
    registry = default_registry()
    problems = [[] if m.event is None else
                [dict(p) for p in registry.validate(m.event.event_type, m.event.version,
                                                    m.event.data)]
                for m in result.messages]
    return result, problems


def prepare_interchange(engine: Engine, interchange_id: str, *,
                        data_dir: Path) -> Prepared | None:
    """Translate a received interchange from a read-only snapshot (None: nothing to do, it is
    gone or no longer waiting). :func:`process_interchange` still claims the row, so a
    preparation whose row another process claimed meanwhile is simply dropped."""
    prepared, failed = prepare_many(engine, [interchange_id], data_dir=data_dir)
    if interchange_id in failed:
        raise failed[interchange_id]
    return prepared.get(interchange_id)


def prepare_many(engine: Engine, interchange_ids: list[str], *, data_dir: Path
                 ) -> tuple[dict[str, Prepared], dict[str, Exception]]:
    """:func:`prepare_interchange` for several rows: one read of the rows and one of their
    partners (with identities and stages) for the whole batch. Returns the preparations of
    the rows still waiting, and the failure of each row whose translation raised."""
    reader = engine.execution_options(sqlite_read_only=True)
    with Session(reader) as session:
        rows = session.execute(select(
            Interchange.id, Interchange.partner_id, Interchange.sha256, Interchange.raw,
            Interchange.blob_path).where(Interchange.id.in_(interchange_ids),
                                         Interchange.status == InterchangeStatus.RECEIVED)).all()
        wanted = {row.partner_id for row in rows if row.partner_id}
        partners = ({p.id: p for p in session.scalars(select(Partner).where(
            Partner.id.in_(wanted)))} if wanted else {})
    prepared: dict[str, Prepared] = {}
    failed: dict[str, Exception] = {}
    for row in rows:
        partner = partners.get(row.partner_id) if row.partner_id else None
        try:
            # A large body is read from its blob only now, one at a time, and dropped after.
            raw = row.raw if row.raw is not None else (
                load_blob(row.blob_path, data_dir) if row.blob_path else b"")
            result, problems = _translate(raw, partner)
        except Exception as exc:
            failed[row.id] = exc
            continue
        del raw
        prepared[row.id] = Prepared(row.id, row.sha256, result, problems, partner)
    return prepared, failed


def process_received(sessions: sessionmaker[Session], interchange_id: str, *, data_dir: Path,
                     now: datetime | None = None, policy: RetryPolicy | None = None) -> Outcome:
    """Process a committed interchange the way every channel does: translate outside any
    transaction, then claim and store everything in one short write transaction.

    Whatever raises on the way is a failed attempt (:mod:`gateway.inbox.poison`): counted in
    its own transaction, retried later with backoff, quarantined after the last; the outcome
    says which (``received`` with the next attempt in its detail, or ``quarantined``)."""
    engine = sessions.kw["bind"]
    try:
        prepared = prepare_interchange(engine, interchange_id, data_dir=data_dir)

        def store() -> Outcome:
            with sessions.begin() as session:
                return process_interchange(session, interchange_id, data_dir=data_dir,
                                           now=now, prepared=prepared)

        return retry_on_conflict(store, what=f"processing interchange {interchange_id}")
    except Exception as exc:
        return record_failure(sessions, interchange_id, exc, data_dir=data_dir, now=now,
                              policy=policy)


@dataclass
class Batch:
    """What one write transaction storing several interchanges knows already: the partners'
    counters it locked (each once per transaction, not once per acknowledgment), and the
    control numbers it stored (not flushed yet, so a query would not see them)."""

    locked: set[tuple[str, str]] = field(default_factory=set)
    used: dict[tuple[str | None, str, str], tuple[str, str]] = field(default_factory=dict)


def process_interchange(session: Session, interchange_id: str, *, data_dir: Path,
                        now: datetime | None = None,
                        prepared: Prepared | None = None,
                        send_acks: Callable[[str], bool] | None = None) -> Outcome:
    """Claim and process one interchange in ``session``. ``send_acks(status)`` decides whether
    the acknowledgments of the outcome are queued (a replay asks; default: always)."""
    row = _claim(session, [interchange_id]).get(interchange_id)
    if row is None:
        existing = session.get(Interchange, interchange_id)
        if existing is None:
            raise LookupError(f"interchange {interchange_id} does not exist")
        return outcome_of(session, existing)
    return _process_claimed(session, row, data_dir=data_dir, now=now or datetime.now(UTC),
                            prepared=prepared, send_acks=send_acks)


def store_prepared(session: Session, prepared: list[Prepared], *, data_dir: Path,
                   now: datetime | None = None, enough: Callable[[], bool] | None = None
                   ) -> tuple[list[Outcome], list[Prepared]]:
    """Claim and store several translated interchanges in ``session``: one claim, no flush
    until the commit (the inserts of the whole batch go out together, table by table), the
    partners' counters locked once. Rows another process claimed meanwhile are left out.

    ``enough()`` is asked after each stored interchange; when it says so, the rest are given
    back unclaimed (second value) for a later transaction. Any exception spoils the whole
    batch: the caller rolls back and stores them one by one."""
    now = now or datetime.now(UTC)
    # By partner (stable: each partner's interchanges keep their order, and so do their
    # events), so every transaction locks partners' counters in one order (PostgreSQL).
    prepared = sorted(prepared, key=lambda p: p.partner.id if p.partner is not None else "")
    rows = _claim(session, [p.interchange_id for p in prepared])
    batch = Batch()
    outcomes: list[Outcome] = []
    rest: list[Prepared] = []
    with session.no_autoflush:
        for index, item in enumerate(prepared):
            row = rows.get(item.interchange_id)
            if row is None:
                continue
            outcomes.append(_process_claimed(session, row, data_dir=data_dir, now=now,
                                             prepared=item, batch=batch))
            if enough is not None and index + 1 < len(prepared) and enough():
                rest = [p for p in prepared[index + 1:] if p.interchange_id in rows]
                break
    if rest:
        session.execute(update(_TABLE).where(_TABLE.c.id.in_([p.interchange_id for p in rest]))
                        .values(attempts=_TABLE.c.attempts - 1))
    return outcomes, rest


def _process_claimed(session: Session, row: Interchange, *, data_dir: Path, now: datetime,
                     prepared: Prepared | None, send_acks: Callable[[str], bool] | None = None,
                     batch: Batch | None = None) -> Outcome:
    bind_correlation(row.correlation_id)
    batch = batch or Batch()
    if prepared is not None and (prepared.interchange_id, prepared.sha256) == (row.id,
                                                                               row.sha256):
        partner = prepared.partner
        result, schema_problems = prepared.result, prepared.schema_problems
    else:
        partner = session.get(Partner, row.partner_id) if row.partner_id else None
        result, schema_problems = _translate(raw_bytes(row, data_dir), partner)
    report = bounded_error_report(result)

    if not result.interchanges:
        return _finish(row, STATUS_QUARANTINED, now, report=report, http_status=422,
                       detail="no EDIFACT or X12 interchange found in the body")
    first = result.interchanges[0]
    limits = ENVELOPE_LIMITS.get(first.standard, ENVELOPE_LIMITS["edifact"])
    row.standard = fit(first.standard, 16)
    row.sender_id = fit(first.sender_id, limits["sender_id"])
    row.receiver_id = fit(first.receiver_id, limits["receiver_id"])
    row.control_number = fit(first.control_number, limits["control_number"])
    too_long = envelope_faults(result)
    if too_long:
        report["ok"] = False
        report["errors"] = [*too_long, *report.get("errors", [])]
        report["error_count"] = int(report.get("error_count", 0)) + len(too_long)
        return _finish(row, STATUS_QUARANTINED, now, report=report, http_status=422,
                       detail="; ".join(e["message"] for e in too_long[:3]),
                       reason="value-too-long")

    if partner is not None:
        verdict = check_sender(partner, result.interchanges)
        if not verdict.ok:
            return _finish(row, STATUS_QUARANTINED, now, report=report, http_status=403,
                           detail=verdict.reason, reason="sender-mismatch")
        refused = refuse_foreign_receivers(partner, result)
        if refused:  # addressed to someone else: refused (TA1 / CONTRL) and quarantined
            refusals = _queue_acknowledgments(session, row, partner, result, now, batch)
            outcome = _finish(row, STATUS_QUARANTINED, now, report=bounded_error_report(result),
                              http_status=422, detail=refused,
                              reason="receiver-mismatch")
            outcome.ack_ids = refusals
            return outcome
        if any(ir.refused for ir in result.interchanges):  # (a refused one of several)
            report = bounded_error_report(result)
        conflict = _reused_control_number(session, row, batch)
        if conflict is not None:
            return _finish(row, STATUS_QUARANTINED, now, report=report, http_status=409,
                           detail=f"control number {row.control_number} from {row.sender_id} "
                                  f"was already used by interchange {conflict} with "
                                  "different bytes", reason="control-number-reused")

    event_ids: list[str] = []
    messages: list[dict[str, Any]] = []
    invalid_events = 0
    for index, message in enumerate(result.messages):
        summary: dict[str, Any] = {"message_type": message.message_type, "control_number":
                                   message.message_control, "status": message.status,
                                   "errors": len(message.errors)}
        problems = schema_problems[index]
        key_text = "" if message.event is None else str(message.event.business_key or "")
        if not problems and len(key_text) > BUSINESS_KEY_LIMIT:
            problems = [{"path": "business_key", "code": "value-too-long",
                         "message": f"the business key is {len(key_text)} characters; at "
                                    f"most {BUSINESS_KEY_LIMIT} are kept"}]
        elif not problems and "\x00" in key_text:
            problems = [{"path": "business_key", "code": "value-not-allowed",
                         "message": "the business key contains a NUL character"}]
        if problems and message.status in ("accepted", "accepted_with_errors"):
            # Syntactically sound (the acknowledgment says so) but its event breaks the
            # contract: consumers never see it; the report says exactly which field and why.
            summary["status"] = "event_invalid"
            summary["schema_errors"] = [dict(p) for p in problems]
            if index < len(report.get("messages", [])):
                report["messages"][index]["schema_errors"] = summary["schema_errors"]
            report["ok"] = False
            invalid_events += 1
        elif message.event is not None and message.status in ("accepted",
                                                              "accepted_with_errors"):
            event_id = str(uuid.uuid5(EVENT_NAMESPACE, f"{row.id}:{index}"))
            envelope = edi_event_envelope(
                event_id=event_id, event_type=message.event.event_type,
                version=message.event.version, partner=row.partner_id or "",
                interchange_id=row.id, time=now,
                control_numbers={"interchange": message.interchange_control,
                                 "group": message.group_control,
                                 "message": message.message_control},
                subject=message.event.business_key,
            )
            session.add(new_event := Event(
                id=event_id, type=message.event.event_type, version=message.event.version,
                partner_id=row.partner_id, path="edi", source=envelope["source"],
                subject=message.event.business_key, time=now, recorded_at=now,
                business_key=message.event.business_key, interchange_id=row.id,
                message_ref=str(message.message_control), envelope=envelope,
                data=message.event.data,
            ))
            index_event(session, new_event)
            enqueue_publication(session, event_id, now)
            on_event_stored(session, event_id, message.event.event_type)  # disruption replans
            event_ids.append(event_id)
            summary["event_id"] = event_id
            if message.event.event_type == "functional_ack" and partner is not None:
                session.flush()  # it reads the outbox: let it see this batch's rows too
                acked = apply_functional_ack(session, partner.id, message.event.data,
                                             ack_interchange_id=row.id, now=now)
                summary["acknowledges"] = [item.id for item in acked]
        messages.append(summary)

    rejected = [m for m in result.messages if m.status == "rejected"]
    if result.messages and len(rejected) == len(result.messages):
        status = STATUS_REJECTED
    elif rejected or invalid_events or not result.ok:
        status = STATUS_PARTIAL
    else:
        status = STATUS_PROCESSED

    ack_ids: list[str] = []
    acks_sent = partner is not None and (send_acks is None or send_acks(status))
    if partner is not None and acks_sent:
        ack_ids = _queue_acknowledgments(session, row, partner, result, now, batch)

    outcome = _finish(row, status, now, report=report, messages=messages)
    batch.used[(row.partner_id, row.sender_id, row.control_number)] = (row.id, row.sha256)
    outcome.event_ids = event_ids
    outcome.ack_ids = ack_ids
    outcome.acks_sent = acks_sent
    log.info("interchange %s %s: %d event(s), %d ack(s)", row.id, status, len(event_ids),
             len(ack_ids), extra={"partner": row.partner_id})
    return outcome


def _reused_control_number(session: Session, row: Interchange,
                           batch: Batch | None = None) -> str | None:
    earlier = (batch.used.get((row.partner_id, row.sender_id, row.control_number))
               if batch is not None else None)
    if earlier is not None and earlier[0] != row.id and earlier[1] != row.sha256:
        return earlier[0]
    return session.scalars(_REUSED, {"r_partner": row.partner_id, "r_sender": row.sender_id,
                                     "r_control": row.control_number, "r_id": row.id,
                                     "r_sha": row.sha256}).first()


# Built once: building the expression per interchange cost more than running it.
_REUSED = select(Interchange.id).where(
    Interchange.partner_id == bindparam("r_partner"), Interchange.direction == "in",
    Interchange.sender_id == bindparam("r_sender"),
    Interchange.control_number == bindparam("r_control"),
    Interchange.id != bindparam("r_id"), Interchange.sha256 != bindparam("r_sha"),
    Interchange.status != STATUS_QUARANTINED).limit(1)


def ack_channel(inbound: str, profile: dict[str, Any]) -> str:
    """Answer on the channel the interchange came in on when we can deliver there (an AS2
    partner without a URL for us to send to cannot get an AS2 message back), otherwise on the
    partner's EDI channel, otherwise for pick-up at GET /api/v1/outbound."""
    if inbound == "sftp" and "sftp" in profile.get("channels", {}):
        return "sftp"
    if inbound == "as2":
        try:
            return edi_channel(profile)
        except RoutingError:
            return "http"
    return "http"


def _queue_acknowledgments(session: Session, row: Interchange, partner: Partner, result: Any,
                           now: datetime, batch: Batch | None = None) -> list[str]:
    def next_control(scope: str) -> int:
        return allocate_control_numbers(session, partner.id, scope)[0]

    # The builders ask for numbers message first; the counters are taken in the one global
    # order beforehand (interchange, group, message), as rendering takes them. Once per
    # transaction: a batch of one partner's interchanges holds them already.
    standards = {ix.standard for ix in result.interchanges}
    scopes = [s for std in sorted(standards) for s in SCOPES.get(std, ())
              if batch is None or (partner.id, s) not in batch.locked]
    if scopes:
        lock_counters(session, partner.id, scopes)
        if batch is not None:
            batch.locked.update((partner.id, s) for s in scopes)

    channel = ack_channel(row.channel, partner.profile)
    ids: list[str] = []
    for doc in build_acknowledgments(result, next_control=next_control, now=now):
        out = store_outbound(session, doc.data, partner_id=partner.id, channel=channel,
                             now=now, standard=doc.standard, correlation_id=row.correlation_id,
                             control_number=str(doc.control_numbers.get("interchange", "")),
                             content_type="application/edi-x12" if doc.standard == "x12"
                             else "application/edifact", filename=f"{doc.kind}-{row.id}.edi")
        # No flush: the ids are ours, and the commit inserts the outbound row before the
        # outbox row that refers to it (the unit of work orders tables by their keys).
        session.add(OutboxItem(
            id=str(uuid.uuid4()), partner_id=partner.id, document_type=f"ack:{doc.kind}",
            channel=channel, business_id=f"ack:{row.id}",
            status=OutboxStatus.PENDING if channel != "http" else OutboxStatus.SENT,
            payload=doc.data, data={"kind": doc.kind, "acknowledges": row.id},
            control_numbers=dict(doc.control_numbers), next_attempt_at=now, created_at=now,
            updated_at=now, interchange_id=out.id, **acknowledging(row.id),
        ))
        ids.append(out.id)
    return ids


def _finish(row: Interchange, status: str, now: datetime, *, report: dict[str, Any],
            http_status: int | None = None, detail: str = "",
            messages: list[dict[str, Any]] | None = None, reason: str = "") -> Outcome:
    row.status = status
    row.status_detail = detail.replace("\x00", "\\x00")  # partner data; PostgreSQL text
    row.processed_at = now
    row.next_attempt_at = None
    if status == STATUS_QUARANTINED:
        metrics.interchanges_quarantined.labels(reason=reason or "other").inc()
    stored: dict[str, Any] = {"report": report, "messages": messages or []}
    if http_status is not None:
        stored["http_status"] = http_status
    row.error_report = stored
    return Outcome(interchange_id=row.id, status=status, detail=detail,
                   http_status=http_status or _http_status(status, stored),
                   messages=messages or [], error_report=report)
