"""A backlog is processed several interchanges per transaction, with every promise kept: each
interchange gets its events and acknowledgment exactly once, a poisoned one fails alone, a
control number reused inside one batch is still caught, and a batch that gives way to receipts
leaves the rest unclaimed. On SQLite and PostgreSQL (the ``engine`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from gateway.inbox import batches
from gateway.inbox.committer import Receipt
from gateway.inbox.poison import RetryPolicy
from gateway.inbox.spool import spool_bytes
from gateway.jobs.resume import pending_interchanges
from gateway.pipeline import process
from gateway.storage.models import Event, Interchange, OutboxItem
from tests.gateway.edi_samples import x12_850

BOLT = "bolt-supply"


def _receive(runtime, bodies: list[bytes]) -> list[str]:
    futures = [runtime.inbox.submit(Receipt(spool_bytes(b, runtime.settings.data_path, 1 << 26),
                                            partner_id=BOLT, channel="http",
                                            now=datetime.now(UTC))) for b in bodies]
    return [f.result(timeout=30).interchange_id for f in futures]


class _Commits:
    def __init__(self, engine) -> None:
        self.count = 0
        self.engine = engine
        event.listen(engine, "commit", self._seen)

    def _seen(self, _conn) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "commit", self._seen)


def _backlog(runtime, ids: list[str], **kwargs) -> int:
    return batches.process_backlog(runtime.sessions, ids, data_dir=runtime.settings.data_path,
                                   policy=RetryPolicy(max_attempts=3, base_seconds=0.0),
                                   **kwargs)


def _effects(runtime, ids: list[str]) -> tuple[dict[str, str], int, int]:
    with runtime.sessions() as s:
        status = dict(tuple(r) for r in s.execute(select(Interchange.id, Interchange.status)
                                .where(Interchange.id.in_(ids))))
        events = s.scalar(select(func.count()).select_from(Event)
                          .where(Event.interchange_id.in_(ids)))
        acks = s.scalar(select(func.count()).select_from(OutboxItem).where(
            OutboxItem.business_id.in_([f"ack:{i}" for i in ids])))
    return status, events or 0, acks or 0


def test_a_backlog_shares_its_commits_and_each_interchange_has_one_effect(runtime) -> None:
    ids = _receive(runtime, [x12_850(1000 + n, lines=20) for n in range(40)])
    commits = _Commits(runtime.engine)
    try:
        assert _backlog(runtime, ids) == 40
    finally:
        commits.close()
    status, events, acks = _effects(runtime, ids)
    assert set(status.values()) == {"processed"}
    assert (events, acks) == (40, 40)
    # 40 at 32 a batch: two write transactions (reads commit nothing on SQLite; on PostgreSQL
    # the read snapshot ends with a commit of its own).
    assert commits.count <= 4, commits.count
    # A second run finds nothing to do and adds nothing.
    assert _backlog(runtime, ids) == 0
    assert _effects(runtime, ids)[1:] == (40, 40)


def test_one_poisoned_interchange_fails_alone(runtime, monkeypatch) -> None:
    ids = _receive(runtime, [x12_850(2000 + n) for n in range(6)])
    real = process.edi_event_envelope

    def envelope(**kwargs):
        # Raises while storing (inside the shared transaction), not while translating.
        if kwargs["control_numbers"]["interchange"].endswith("2003"):
            raise RuntimeError("injected: storing exploded")
        return real(**kwargs)

    monkeypatch.setattr(process, "edi_event_envelope", envelope)
    _backlog(runtime, ids)
    status, events, acks = _effects(runtime, ids)
    assert [status[i] for i in ids] == ["processed"] * 3 + ["received"] + ["processed"] * 2
    assert (events, acks) == (5, 5)
    with runtime.sessions() as s:
        poisoned = s.get(Interchange, ids[3])
        assert poisoned is not None
        assert "storing exploded" in poisoned.status_detail
        assert poisoned.error_report["failed_attempts"] == 1


def test_a_failed_translation_fails_alone(runtime, monkeypatch) -> None:
    ids = _receive(runtime, [x12_850(3000 + n) for n in range(4)])
    real = process.translate

    def translate(raw, **kwargs):
        if b"PO0003001" in raw:
            raise RuntimeError("injected: translation exploded")
        return real(raw, **kwargs)

    monkeypatch.setattr(process, "translate", translate)
    _backlog(runtime, ids)
    status, events, _ = _effects(runtime, ids)
    assert [status[i] for i in ids] == ["processed", "received", "processed", "processed"]
    assert events == 3


def test_a_control_number_reused_inside_one_batch_is_caught(runtime) -> None:
    first, second = _receive(runtime, [x12_850(4000, quantity=5), x12_850(4000, quantity=7)])
    _backlog(runtime, [first, second])
    status, events, _ = _effects(runtime, [first, second])
    assert status == {first: "processed", second: "quarantined"}
    assert events == 1
    with runtime.sessions() as s:
        row = s.get(Interchange, second)
        assert row is not None and row.error_report["http_status"] == 409


def test_a_batch_giving_way_to_receipts_leaves_the_rest_unclaimed(runtime) -> None:
    ids = _receive(runtime, [x12_850(5000 + n) for n in range(5)])
    prepared, failed = process.prepare_many(runtime.engine, ids,
                                            data_dir=runtime.settings.data_path)
    assert not failed
    with runtime.sessions.begin() as session:
        outcomes, rest = process.store_prepared(
            session, [prepared[i] for i in ids], data_dir=runtime.settings.data_path,
            enough=lambda: True)
    assert [o.interchange_id for o in outcomes] == ids[:1]
    assert [p.interchange_id for p in rest] == ids[1:]
    status, _, _ = _effects(runtime, ids)
    assert [status[i] for i in ids] == ["processed"] + ["received"] * 4
    with runtime.sessions() as s:
        attempts = dict(tuple(r) for r in s.execute(select(Interchange.id, Interchange.attempts)
                                  .where(Interchange.id.in_(ids))))
    assert [attempts[i] for i in ids] == [1, 0, 0, 0, 0]


def test_sibling_workers_take_disjoint_shares_of_the_inbox(runtime) -> None:
    ids = _receive(runtime, [x12_850(6000 + n) for n in range(48)])
    later = timedelta(seconds=-1)  # rows "older than" one second in the future: all of them
    shares = [set(pending_interchanges(runtime, older_than=later, share=(slot, 3)))
              for slot in range(3)]
    assert sum(len(s) for s in shares) == 48
    assert set.union(*shares) == set(ids)
    assert all(shares), "48 random ids leave no share empty"


@pytest.mark.parametrize("value, expected", [("0", 0), ("2", 2)])
def test_inbox_workers_auto_scales_on_cores(value: str, expected: int, monkeypatch) -> None:
    from gateway.config import load_settings

    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert load_settings(environ={}).inbox_workers == 5
    assert load_settings(environ={"EDIGATE_INBOX_WORKERS": "auto"}).inbox_workers == 5
    assert load_settings(environ={"EDIGATE_INBOX_WORKERS": value}).inbox_workers == expected
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert load_settings(environ={}).inbox_workers == 1


def test_a_worker_short_of_its_own_rows_helps_from_the_newest_end(runtime,
                                                                  monkeypatch) -> None:
    from gateway.jobs import resume

    ids = _receive(runtime, [x12_850(7000 + n) for n in range(16)])
    with runtime.sessions() as s:
        order = [r for (r,) in s.execute(select(Interchange.id).where(Interchange.id.in_(ids))
                                         .order_by(Interchange.received_at))]
    later = timedelta(seconds=-1)
    mine = pending_interchanges(runtime, older_than=later, share=(0, 2))
    assert mine == [i for i in order if i in mine], "its own rows, oldest first"
    # Rows of the sibling become everyone's once they waited too long: taken after its own,
    # newest first.
    monkeypatch.setattr(resume, "STEAL_AFTER", timedelta(seconds=-5))
    helped = pending_interchanges(runtime, older_than=later, share=(0, 2))
    theirs = [i for i in order if i not in mine]
    assert helped == mine + theirs[::-1]
