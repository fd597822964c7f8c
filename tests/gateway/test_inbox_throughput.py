"""The parts that make ingest fast without weakening a promise: group commit of receipts, the
cache of verified tokens, the writers' turn on SQLite, and inbox workers in other processes."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from gateway.inbox.committer import InboxCommitter, Receipt
from gateway.inbox.spool import INLINE_LIMIT, spool_bytes
from gateway.inbox.store import accept
from gateway.jobs.resume import work_inbox
from gateway.storage.db import make_engine
from gateway.storage.models import Interchange
from gateway.web.token_cache import TokenCache
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT as BOLT_TOKEN
from tests.gateway.gateway_app import auth
from tests.gateway.live_server import LiveServer

BOLT = "bolt-supply"


def _receipt(runtime, data: bytes, partner: str | None = BOLT) -> Receipt:
    body = spool_bytes(data, runtime.settings.data_path, 64 << 20)
    return Receipt(body, partner_id=partner, channel="http", now=datetime.now(UTC))


def _count(runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(Interchange))


def _hold_writes(session) -> None:
    """Make every other writer wait until ``session`` ends (SQLite: take the writers' turn;
    PostgreSQL: lock the inbox table against inserts, reads still pass)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE interchanges IN EXCLUSIVE MODE"))
    else:
        session.execute(text("UPDATE partners SET name = name WHERE id = 'nobody'"))


# -- group commit ----------------------------------------------------------------------------

def test_receipts_waiting_together_share_one_commit(runtime) -> None:
    # Hold the writer's turn so the first receipt blocks the writer thread and the others
    # queue behind it: they must then be stored together, in one transaction.
    futures = []
    with runtime.sessions.begin() as blocker:
        _hold_writes(blocker)
        futures.append(runtime.inbox.submit(_receipt(runtime, x12_850(1))))
        time.sleep(0.2)
        futures += [runtime.inbox.submit(_receipt(runtime, x12_850(n))) for n in range(2, 41)]
        assert not any(f.done() for f in futures), "nothing is answered before its commit"
    results = [f.result(timeout=30) for f in futures]
    assert len({r.interchange_id for r in results}) == 40
    assert not any(r.duplicate for r in results)
    assert _count(runtime) == 40
    assert runtime.inbox.receipts == 40
    assert runtime.inbox.batches <= 3


def _shared_batch(runtime, size: int) -> None:
    """Commit one receipt, then ``size`` together (held back meanwhile): afterwards the
    writer thread is under load and expects batches of about ``size``."""
    with runtime.sessions.begin() as blocker:
        _hold_writes(blocker)
        futures = [runtime.inbox.submit(_receipt(runtime, x12_850(900_000)))]
        time.sleep(0.2)
        futures += [runtime.inbox.submit(_receipt(runtime, x12_850(900_001 + n)))
                    for n in range(size)]
    for future in futures:
        future.result(timeout=30)


def test_a_lone_receipt_after_a_burst_does_not_wait_out_the_linger(runtime,
                                                                    monkeypatch) -> None:
    from gateway.inbox import committer

    monkeypatch.setattr(committer, "LINGER", 3.0)
    monkeypatch.setattr(committer, "GAP", 0.05)
    _shared_batch(runtime, 20)
    started = time.monotonic()
    runtime.inbox.submit(_receipt(runtime, x12_850(1))).result(timeout=30)
    # Lingering ends when no receipt came for GAP, far before LINGER.
    assert time.monotonic() - started < 1.5


def test_a_batch_as_large_as_recent_ones_goes_without_lingering(runtime, monkeypatch) -> None:
    from gateway.inbox import committer

    monkeypatch.setattr(committer, "LINGER", 3.0)
    monkeypatch.setattr(committer, "GAP", 3.0)  # only the size rule can end the linger early
    _shared_batch(runtime, 30)
    batches = runtime.inbox.batches
    started = time.monotonic()
    futures = [runtime.inbox.submit(_receipt(runtime, x12_850(n))) for n in range(1, 31)]
    for future in futures:
        future.result(timeout=30)
    assert time.monotonic() - started < 1.5
    assert runtime.inbox.batches - batches <= 2


def test_identical_bytes_in_one_batch_are_stored_once(runtime) -> None:
    data = x12_850(7)
    with runtime.sessions.begin() as blocker:
        _hold_writes(blocker)
        first = runtime.inbox.submit(_receipt(runtime, x12_850(6)))
        time.sleep(0.2)
        same = [runtime.inbox.submit(_receipt(runtime, data)) for _ in range(5)]
        other_partner = runtime.inbox.submit(_receipt(runtime, data, partner="nova-plastics"))
    first.result(timeout=30)
    results = [f.result(timeout=30) for f in same]
    assert [r.duplicate for r in results] == [False, True, True, True, True]
    assert {r.interchange_id for r in results} == {results[0].interchange_id}
    # Same bytes from another partner are another partner's interchange.
    assert not other_partner.result(timeout=30).duplicate
    assert _count(runtime) == 3


def test_a_resend_of_stored_bytes_is_answered_with_the_original(runtime) -> None:
    original = runtime.inbox.submit(_receipt(runtime, x12_850(8))).result(timeout=30)
    again = runtime.inbox.submit(_receipt(runtime, x12_850(8))).result(timeout=30)
    assert again.duplicate and again.interchange_id == original.interchange_id
    assert _count(runtime) == 1


def test_large_bodies_go_to_the_blob_store(runtime) -> None:
    big = x12_850(9) + b" " * (INLINE_LIMIT + 10)
    done = runtime.inbox.submit(_receipt(runtime, big)).result(timeout=30)
    with runtime.sessions() as s:
        row = s.get(Interchange, done.interchange_id)
        assert row.raw is None and row.blob_path
    assert (runtime.settings.data_path / row.blob_path).read_bytes() == big


class _Racing(InboxCommitter):
    """Another process stores the first receipt's bytes between our look-up and our commit."""

    def _store_together(self, receipts):
        rival = receipts[0]
        copy = spool_bytes(rival.body.read(), self._data_dir, 64 << 20)
        with self._sessions() as s, s.begin():
            accept(s, copy, data_dir=self._data_dir, partner_id=rival.partner_id,
                   channel="as2", now=rival.now)
        raise IntegrityError("INSERT", {}, Exception("uq_interchanges_bytes"))


def test_a_race_with_another_process_falls_back_to_one_by_one(runtime) -> None:
    committer = _Racing(runtime.sessions, runtime.settings.data_path)
    try:
        raced = committer.submit(_receipt(runtime, x12_850(10))).result(timeout=30)
    finally:
        committer.close()
    assert raced.duplicate
    with runtime.sessions() as s:
        assert s.get(Interchange, raced.interchange_id).channel == "as2"
    assert _count(runtime) == 1


def test_a_failing_database_fails_every_waiting_request(runtime, tmp_path) -> None:
    broken = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables
    from gateway.storage.db import session_factory
    committer = InboxCommitter(session_factory(broken), tmp_path)
    try:
        future = committer.submit(_receipt(runtime, x12_850(11)))
        with pytest.raises(Exception, match="no such table"):
            future.result(timeout=30)
    finally:
        committer.close()
        broken.dispose()


# -- the writers' turn (SQLite) ---------------------------------------------------------------

def test_writers_of_two_engines_on_one_file_take_turns(tmp_path: Path) -> None:
    """Two engines stand for two processes: every increment lands, none fails as locked."""
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    engines = [make_engine(url), make_engine(url)]
    with engines[0].begin() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))

    def bump(engine) -> None:
        for _ in range(25):
            with engine.begin() as conn:
                n = conn.execute(text("SELECT n FROM counter")).scalar_one()
                conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(bump, engines * 4))
    with engines[1].connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 200
    assert (tmp_path / "turns.db.writer").exists()
    for engine in engines:
        engine.dispose()


def test_a_failed_transaction_passes_the_turn_on(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fail.db'}")
    with pytest.raises(Exception, match="no such table"), engine.begin() as conn:
        conn.execute(text("INSERT INTO missing VALUES (1)"))
    done = threading.Event()

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(10), "the turn of a rolled-back transaction was never released"
    engine.dispose()


# -- verified tokens --------------------------------------------------------------------------

def test_token_cache_remembers_only_for_its_time() -> None:
    now = [100.0]
    cache: TokenCache[str] = TokenCache(5, clock=lambda: now[0])
    cache.put("secret", 1, "bolt")
    assert cache.get("secret") == "bolt"
    assert cache.get("other") is None
    now[0] += 5.1
    assert cache.get("secret") is None


def test_token_cache_never_outlives_the_credential_and_forgets_on_revocation() -> None:
    now = [0.0]
    cache: TokenCache[str] = TokenCache(5, clock=lambda: now[0])
    cache.put("expiring", 1, "a", valid_for=1.0)
    cache.put("revoked", 2, "b")
    cache.put("expired", 3, "c", valid_for=-1)
    assert cache.get("expired") is None
    now[0] = 1.5
    assert cache.get("expiring") is None
    assert cache.get("revoked") == "b"
    cache.forget(2)
    assert cache.get("revoked") is None


def test_a_zero_cache_time_looks_up_every_time() -> None:
    cache: TokenCache[str] = TokenCache(0)
    cache.put("secret", 1, "bolt")
    assert cache.get("secret") is None


async def test_an_expired_token_is_refused_even_if_it_was_cached(client, runtime) -> None:
    from gateway.storage.models import Credential

    ok = await client.get("/api/v1/events", headers=auth(BOLT_TOKEN))
    assert ok.status == 200
    with runtime.sessions.begin() as s:
        for cred in s.scalars(select(Credential).where(Credential.partner_id == BOLT)):
            cred.not_after = datetime(2020, 1, 1, tzinfo=UTC)
    # Another process expired it: this one notices within auth.token_cache_seconds; with the
    # cache off it notices at once.
    from gateway.web.keys import TOKENS
    client.server.app[TOKENS].clear()
    refused = await client.get("/api/v1/events", headers=auth(BOLT_TOKEN))
    assert refused.status == 401


async def test_concurrent_requests_with_one_token_share_one_lookup(client,
                                                                  monkeypatch) -> None:
    import asyncio

    from gateway.web import auth as auth_module
    from gateway.web.keys import TOKENS

    calls = []
    real = auth_module.authenticate_token

    def counting(session, token, *, now):
        calls.append(token)
        time.sleep(0.05)  # a slow database: every request arrives while the first looks up
        return real(session, token, now=now)

    monkeypatch.setattr(auth_module, "authenticate_token", counting)
    client.server.app[TOKENS].clear()
    answers = await asyncio.gather(*(client.get("/api/v1/events", headers=auth(BOLT_TOKEN))
                                     for _ in range(20)))
    assert [a.status for a in answers] == [200] * 20
    assert len(calls) == 1
    wrong = await asyncio.gather(*(client.get("/api/v1/events", headers=auth("edg_wrong"))
                                   for _ in range(3)))
    assert [a.status for a in wrong] == [401] * 3
    assert not client.server.app[TOKENS].inflight


def test_reads_do_not_queue_behind_announced_receipts(tmp_path: Path) -> None:
    from gateway.config import Settings
    from gateway.runtime import Runtime
    from gateway.storage.db import ReceiptsAhead, session_factory

    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE r (x INTEGER)"))
    runtime = Runtime(settings=Settings(data_dir=str(tmp_path)), engine=engine,
                      sessions=session_factory(engine))
    ahead = ReceiptsAhead(engine)
    ahead.hold()
    try:
        started = time.monotonic()
        with runtime.reads() as session:
            assert session.scalar(text("SELECT count(*) FROM r")) == 0
        assert time.monotonic() - started < 0.5  # a writer waits up to 1 s here
        assert not _write_in_thread(engine).wait(0.2)
    finally:
        ahead.close()
        runtime.close()


# -- inbox workers ----------------------------------------------------------------------------

def test_a_worker_processes_what_is_waiting_and_skips_a_poisoned_row(runtime) -> None:
    good = [runtime.inbox.submit(_receipt(runtime, x12_850(n))).result(timeout=30)
            for n in range(20, 40)]
    poisoned = runtime.inbox.submit(_receipt(runtime, b"ISA*garbage")).result(timeout=30)
    done = work_inbox(runtime, threading.Event(), once=True, min_age=0)
    assert done == 21
    with runtime.sessions() as s:
        statuses = {r.id: r.status for r in s.scalars(select(Interchange).where(
            Interchange.direction == "in"))}
    assert all(statuses[g.interchange_id] == "processed" for g in good)
    assert statuses[poisoned.interchange_id] == "quarantined"
    # Nothing left: a second pass does nothing (claims are once only).
    assert work_inbox(runtime, threading.Event(), once=True, min_age=0) == 0


def _get_json(url: str, headers: dict[str, str]) -> dict:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def test_serve_with_inbox_workers_processes_async_posts(tmp_path: Path, db_backend: str,
                                                        request: pytest.FixtureRequest) -> None:
    url = None
    if db_backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
    server = LiveServer(tmp_path / "gw", url, extra_env={"EDIGATE_INBOX_WORKERS": "2",
                                                        "EDIGATE_JOBS_ENABLED": "false"})
    server.prepare()
    headers = {"Authorization": f"Bearer {BOLT_TOKEN}", "Prefer": "respond-async",
               "Content-Type": "application/edi-x12"}
    with server:
        server.start()
        ids = []
        for n in range(30):
            req = urllib.request.Request(f"{server.url}/edi", data=x12_850(500 + n),
                                         headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=10) as resp:
                assert resp.status == 202
                ids.append(json.loads(resp.read())["interchange_id"])
        deadline = time.monotonic() + 60
        pending = set(ids)
        while pending and time.monotonic() < deadline:
            for ident in list(pending):
                body = _get_json(f"{server.url}/interchanges/{ident}",
                                 {"Authorization": headers["Authorization"]})
                if body["status"] == "processed":
                    pending.discard(ident)
            time.sleep(0.2)
        assert not pending, f"{len(pending)} interchange(s) never processed by the workers"
        ack = _get_json(f"{server.url}/interchanges/{ids[0]}/ack",
                        {"Authorization": headers["Authorization"],
                         "Accept": "application/json"})
        assert ack["acknowledgments"][0]["edi"].startswith("ISA")
        assert "AK9*A*1*1*1" in ack["acknowledgments"][0]["edi"]
        workers = _worker_pids(server.proc.pid)
        assert len(workers) == 2
    # The server stopped: so did its workers.
    deadline = time.monotonic() + 20
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(workers)


def _worker_pids(parent: int) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"work" in cmdline:
            pids.append(int(proc.name))
    return pids


def _alive(pids: list[int]) -> bool:
    return any(Path(f"/proc/{pid}").exists() and
               (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z")
               for pid in pids)


def test_workers_of_a_killed_server_stop_by_themselves(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "gw", extra_env={"EDIGATE_INBOX_WORKERS": "1",
                                                   "EDIGATE_JOBS_ENABLED": "false"})
    server.prepare()
    server.start()
    deadline = time.monotonic() + 20
    while not (workers := _worker_pids(server.proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(workers) == 1
    server.kill()  # SIGKILL: the server cannot stop its workers itself
    deadline = time.monotonic() + 20
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(workers), "an orphaned inbox worker kept running"


def test_edigate_work_once_processes_the_waiting_interchanges(tmp_path: Path) -> None:
    from gateway.config import Settings
    from gateway.runtime import Runtime

    server = LiveServer(tmp_path / "gw")
    server.prepare()
    runtime = Runtime.from_settings(Settings(data_dir=str(tmp_path / "gw")))
    try:
        ids = [runtime.inbox.submit(_receipt(runtime, x12_850(900 + n))).result(timeout=30)
               .interchange_id for n in range(5)]
    finally:
        runtime.close()
    done = server.cli("work", "--once", "--nice", "5")
    assert "processed 5 interchange(s)" in done.stdout
    runtime = Runtime.from_settings(Settings(data_dir=str(tmp_path / "gw")))
    try:
        with runtime.sessions() as s:
            assert {s.get(Interchange, i).status for i in ids} == {"processed"}
    finally:
        runtime.close()


def _write_in_thread(engine) -> threading.Event:
    done = threading.Event()

    def write() -> None:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done


def test_other_writers_let_announced_receipts_go_first(tmp_path: Path) -> None:
    from gateway.storage.db import ReceiptsAhead

    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    ahead = ReceiptsAhead(engine)
    ahead.hold()
    done = _write_in_thread(engine)
    assert not done.wait(0.2), "a processing write went ahead of waiting receipts"
    # The receipts' own writes are not held back by their announcement.
    with engine.execution_options(sqlite_receipts=True).begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS r (x INTEGER)"))
    ahead.release()
    assert done.wait(5)
    ahead.close()
    engine.dispose()


def test_receipts_never_starve_other_writers(tmp_path: Path) -> None:
    from gateway.storage.db import ReceiptsAhead

    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    ahead = ReceiptsAhead(engine)
    ahead.hold()  # and never released: the writer goes after its yield limit
    try:
        assert _write_in_thread(engine).wait(10)
    finally:
        ahead.close()
        engine.dispose()


def test_receipt_ids_are_time_ordered_uuids() -> None:
    import uuid

    from gateway.storage.ids import uuid7

    first = uuid7()
    time.sleep(0.002)
    later = [uuid7() for _ in range(100)]
    assert all(uuid.UUID(i).version == 7 and uuid.UUID(i).variant == uuid.RFC_4122
               for i in [first, *later])
    assert all(first < i for i in later)
    assert len(set(later)) == 100


def test_forked_children_never_repeat_the_parents_random_ids() -> None:
    import os

    from gateway.storage.ids import random_hex

    random_hex()  # the pool of this thread is filled
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id goes to the parent
        os.write(write, random_hex().encode())
        os._exit(0)
    os.close(write)
    ours = random_hex()
    os.waitpid(pid, 0)
    theirs = os.read(read, 64).decode()
    os.close(read)
    assert len(theirs) == len(ours) == 32
    assert theirs != ours


def test_random_ids_are_distinct_across_pool_refills_and_threads() -> None:
    from gateway.storage.ids import POOL_BYTES, random_bytes, random_hex

    ids = [random_hex() for _ in range(3 * POOL_BYTES // 16)]
    with ThreadPoolExecutor(4) as pool:
        ids += [i for chunk in pool.map(lambda _: [random_hex() for _ in range(500)], range(4))
                for i in chunk]
    assert len(set(ids)) == len(ids)
    assert len(random_bytes(POOL_BYTES * 2)) == POOL_BYTES * 2


def test_received_documents_are_counted_with_their_labels() -> None:
    from prometheus_client import REGISTRY

    from gateway.observability import metrics

    def value(partner: str) -> float:
        return REGISTRY.get_sample_value("edigate_documents_received_total", {
            "partner": partner, "channel": "http", "outcome": "accepted"}) or 0.0

    before, anonymous = value("counted-partner"), value("")
    metrics.received("counted-partner", "http", "received")
    metrics.received("counted-partner", "http", "received")
    metrics.received(None, "http", "received")
    assert value("counted-partner") == before + 2
    assert value("") == anonymous + 1

