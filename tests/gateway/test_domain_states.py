"""The domain's state tables, transition rule, outbound derivation and timestamp format:
pure checks, no database."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from pathlib import Path

import pytest

from gateway.domain.lifecycle import outbound_status
from gateway.domain.states import (
    ACK,
    INBOUND_INTERCHANGE,
    OUTBOUND_INTERCHANGE,
    OUTBOX,
    PLAN_ACTION,
    STAGE,
    TABLES,
    AckStatus,
    As2InboundStatus,
    As2OutboundStatus,
    Entity,
    InterchangeStatus,
    InvalidTransition,
    MdnStatus,
    OutboxStatus,
    PlanActionStatus,
    Stage,
    can_transition,
    sources_of,
    transition,
)
from gateway.domain.timestamps import api_timestamp
from gateway.storage.types import NaiveDatetimeError

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
IS, OS, AS = InterchangeStatus, OutboxStatus, AckStatus


@pytest.mark.parametrize(("table", "enum"), [
    (OUTBOX, OutboxStatus), (ACK, AckStatus), (PLAN_ACTION, PlanActionStatus), (STAGE, Stage)])
def test_every_status_has_a_row_and_every_target_is_a_status(table, enum: type[StrEnum]) -> None:
    assert set(table) == set(enum)
    for targets in table.values():
        assert targets <= set(enum)


def test_interchange_tables_split_the_enum_by_direction() -> None:
    inbound, outbound = set(INBOUND_INTERCHANGE), set(OUTBOUND_INTERCHANGE)
    assert inbound | outbound == set(InterchangeStatus)
    assert inbound & outbound == {IS.REJECTED}  # a partner's verdict either way
    assert IS.QUEUED not in inbound and IS.RECEIVED not in outbound
    for table in (INBOUND_INTERCHANGE, OUTBOUND_INTERCHANGE):
        for targets in table.values():
            assert targets <= set(table)


def test_invalid_transition_names_entity_from_and_to() -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(Entity.ACK, AS.ACCEPTED, AS.EXPECTED)
    assert (caught.value.entity, caught.value.current, caught.value.new) == (
        Entity.ACK, "accepted", "expected")
    assert "acknowledgment" in str(caught.value) and "final" in str(caught.value)
    with pytest.raises(InvalidTransition, match="stage: 'edi' -> 'api'"):
        transition(Entity.STAGE, Stage.EDI, Stage.API)  # promotion goes one step at a time
    with pytest.raises(InvalidTransition, match="'bogus'"):
        transition(Entity.OUTBOX, OS.PENDING, "bogus")
    with pytest.raises(InvalidTransition):
        transition(Entity.INBOUND_INTERCHANGE, None, IS.QUEUED)  # not an inbound status


def test_allowed_changes_and_same_status_pass() -> None:
    assert transition(Entity.OUTBOX, OS.PENDING, OS.SENDING) == "sending"
    assert transition(Entity.OUTBOX, OS.SENDING, OS.SENDING) == "sending"  # re-claimed
    assert transition(Entity.OUTBOX, None, OS.SENT) == "sent"  # created sent (pick-up)
    assert transition(Entity.STAGE, Stage.API, Stage.DUAL) == "dual"  # rollback
    assert not can_transition(Entity.OUTBOX, OS.CANCELLED, OS.SENT)
    assert set(sources_of(Entity.OUTBOX, OS.SENDING)) == {OS.PENDING, OS.SENDING}


def test_every_table_is_reachable_from_its_start() -> None:
    starts = {Entity.INBOUND_INTERCHANGE: IS.RECEIVED, Entity.OUTBOUND_INTERCHANGE: IS.QUEUED,
              Entity.OUTBOX: OS.PENDING, Entity.ACK: AS.NONE, Entity.STAGE: Stage.EDI}
    for entity, start in starts.items():
        table, seen, todo = TABLES[entity], {start}, [start]
        while todo:
            for nxt in table[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        assert seen == set(table), f"{entity}: unreachable {set(table) - seen}"


@pytest.mark.parametrize(("outbox", "ack", "current", "expected"), [
    (OS.PENDING, AS.NONE, IS.QUEUED, IS.QUEUED),
    (OS.SENDING, AS.NONE, IS.QUEUED, IS.QUEUED),
    (OS.SENT, AS.NONE, IS.QUEUED, IS.SENT),  # a channel without acknowledgments
    (OS.SENT, AS.EXPECTED, IS.QUEUED, IS.SENT),
    (OS.SENT, AS.EXPECTED, IS.PICKED_UP, IS.PICKED_UP),
    (OS.SENT, AS.ACCEPTED, IS.PICKED_UP, IS.ACCEPTED),
    (OS.SENT, AS.ACCEPTED_WITH_ERRORS, IS.SENT, IS.ACCEPTED_WITH_ERRORS),
    (OS.FAILED, AS.REJECTED, IS.SENT, IS.REJECTED),
    (OS.SENT, AS.OVERDUE, IS.SENT, IS.OVERDUE),
    (OS.PENDING, AS.OVERDUE, IS.OVERDUE, IS.QUEUED),  # resent
    (OS.SENDING, AS.ACCEPTED, IS.QUEUED, IS.ACCEPTED),  # the verdict overtook the delivery
    (OS.DEAD, AS.NONE, IS.QUEUED, IS.FAILED),
    (OS.CANCELLED, AS.NONE, IS.FAILED, IS.CANCELLED),
])
def test_outbound_status_follows_outbox_and_ack(outbox, ack, current, expected) -> None:
    derived = outbound_status(outbox, ack, current)
    assert derived == expected
    # Whatever it derives is a change the outbound table allows.
    assert can_transition(Entity.OUTBOUND_INTERCHANGE, current, derived)


def test_api_timestamps_are_utc_with_milliseconds_and_z() -> None:
    moment = datetime(2026, 12, 7, 23, 15, 3, 123456, tzinfo=UTC)
    assert api_timestamp(moment) == "2026-12-07T23:15:03.123Z"
    berlin = moment.astimezone(timezone(timedelta(hours=1)))
    assert api_timestamp(berlin) == "2026-12-07T23:15:03.123Z"
    assert api_timestamp(moment.replace(microsecond=0)) == "2026-12-07T23:15:03.000Z"
    assert api_timestamp(None) is None
    with pytest.raises(NaiveDatetimeError):
        api_timestamp(datetime(2026, 12, 7, 23, 15))


# A clock read or a conversion that yields a naive datetime.
NAIVE = re.compile(r"datetime\.utcnow\(|datetime\.utcfromtimestamp\(|datetime\.now\(\)"
                   r"|datetime\.today\(\)|datetime\.fromtimestamp\([^,()]*\)")


def test_no_naive_datetime_is_made_anywhere_in_the_gateway() -> None:
    found = [f"{path.relative_to(GATEWAY.parent)}:{n}: {line.strip()}"
             for path in sorted(GATEWAY.rglob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if NAIVE.search(line)]
    assert found == []
    assert NAIVE.search("x = datetime.now()") and NAIVE.search("datetime.fromtimestamp(t)")
    assert not NAIVE.search("datetime.now(UTC)")


STATUS_WORDS = "|".join(sorted({str(v) for enum in (
    InterchangeStatus, OutboxStatus, AckStatus, PlanActionStatus, Stage, As2InboundStatus,
    As2OutboundStatus, MdnStatus) for v in enum}))
# A status compared with, or set to, a bare string (the enums' members are what code uses).
BARE = re.compile(rf"\b(status|stage|ack_status)\s*(==|!=|=)\s*\"({STATUS_WORDS})\""
                  rf"|\b(status|stage)\.in_\(\(\"|\bstage\s+in\s+\(\"")
# Other vocabularies that happen to share a word: an MDN's disposition (RFC 8098 text), the
# translators' verdict on a message (not a stored status), and the line status a simulated
# supplier writes into its order response.
OTHER_VOCABULARIES = (
    "gateway/channels/as2/mdn.py: return self.status == \"processed\"",
    "gateway/channels/as2/outbound.py: if disposition.status == \"processed\"",
    'gateway/simulate/supplier.py: status = "accepted" if confirmed == quantity',
    'gateway/simulate/supplier.py: changed |= status != "accepted"',
    "gateway/pipeline/process.py: rejected = [m for m in result.messages if m.status == ",
    'gateway/inbox/poison.py: dataclasses.replace(m, status="rejected")',
)


def test_no_bare_status_literal_outside_the_enums() -> None:
    found = []
    for path in sorted(GATEWAY.rglob("*.py")):
        rel = str(path.relative_to(GATEWAY.parent))
        if rel.startswith(("gateway/domain/", "gateway/storage/migrations/")):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            where = f"{rel}: {line.strip()}"
            if BARE.search(line) and not any(where.startswith(o) for o in OTHER_VOCABULARIES):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []
    assert BARE.search('row.status = "queued"') and BARE.search('if stage == "dual":')
    assert not BARE.search("row.status = OutboxStatus.SENT")
