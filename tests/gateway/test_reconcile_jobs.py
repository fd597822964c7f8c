"""Scheduled runs with a database lease, the API pull connector, and the terminal report."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from gateway.cli import cli as cli_main
from gateway.partners.profile import parse_profile
from gateway.reconcile.connector import PullConnector, PullError
from gateway.reconcile.jobs import PullJob, acquire_lease, reconcile_due, register_reconcile_jobs
from gateway.runtime import Runtime
from gateway.storage.db import make_engine
from gateway.storage.migrate import upgrade
from gateway.storage.models import Event, Partner, PartnerStage
from gateway.storage.models_reconciler import JobLease, PullCursor, ReconcileRun
from gateway.storage.repositories import upsert_partner
from tests.gateway.reconcile_helpers import (
    PARTNER,
    PROFILE,
    cloud_event,
    make_runtime,
    order,
    store_edi,
)

NOW = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)


def set_dual(runtime: Runtime) -> None:
    with runtime.sessions.begin() as s:
        s.add(PartnerStage(partner_id=PARTNER, document_type="purchase_order", stage="dual",
                           changed_at=NOW, changed_by="test"))


def test_lease_is_held_by_one_process_until_it_expires(engine: Engine, tmp_path: Path) -> None:
    runtime = make_runtime(engine, tmp_path)
    ttl = timedelta(minutes=10)
    with runtime.sessions.begin() as s:
        assert acquire_lease(s, "reconcile:x", holder="a", now=NOW, ttl=ttl)
    with runtime.sessions.begin() as s:
        assert not acquire_lease(s, "reconcile:x", holder="b", now=NOW + timedelta(minutes=5),
                                 ttl=ttl)
        assert acquire_lease(s, "reconcile:x", holder="a", now=NOW + timedelta(minutes=5),
                             ttl=ttl)  # the holder renews
    with runtime.sessions.begin() as s:
        assert acquire_lease(s, "reconcile:x", holder="b", now=NOW + timedelta(minutes=16),
                             ttl=ttl)  # expired: another process takes over


def test_scheduled_job_runs_once_per_interval_and_again_when_a_window_closes(
        engine: Engine, tmp_path: Path) -> None:
    runtime = make_runtime(engine, tmp_path)
    set_dual(runtime)
    t = NOW - timedelta(hours=1)
    store_edi(runtime, order("PO-1"), time=t, recorded_at=t)
    every = timedelta(minutes=15)
    first = reconcile_due(runtime, every=every, now=NOW, holder="proc-a")
    assert list(first) == [PARTNER] and len(first[PARTNER]) == 1
    # A second process in the same interval finds the lease taken.
    assert reconcile_due(runtime, every=every, now=NOW + timedelta(minutes=1),
                         holder="proc-b") == {}
    # Next day 01:05: yesterday's window closed at 01:00 (midnight + 1 h grace).
    next_day = datetime(2024, 3, 6, 1, 5, tzinfo=UTC)
    done = reconcile_due(runtime, every=every, now=next_day, holder="proc-b")
    with runtime.sessions() as s:
        triggers = sorted(s.scalars(select(ReconcileRun.trigger).where(
            ReconcileRun.id.in_(done[PARTNER]))))
        final = s.scalars(select(ReconcileRun).where(ReconcileRun.trigger == "window-close")
                          ).one()
    assert triggers == ["schedule", "window-close"]
    assert final.counts["missing_api"] == 1 and final.counts["pending"] == 0


def test_window_close_runs_come_once_per_closed_day_even_after_downtime(
        engine: Engine, tmp_path: Path) -> None:
    runtime = make_runtime(engine, tmp_path)
    set_dual(runtime)
    every = timedelta(minutes=15)

    def tick(at: datetime) -> list[tuple[str, date]]:
        done = reconcile_due(runtime, every=every, now=at, holder="proc-a")
        with runtime.sessions() as s:
            runs = s.scalars(select(ReconcileRun).where(ReconcileRun.id.in_(done[PARTNER])))
            return sorted((r.trigger, r.window_start.date()) for r in runs
                          if r.trigger == "window-close")

    assert tick(NOW) == []  # 2024-03-05 12:00, the first run ever
    # 03-06 00:30: the 5th's window closes at 01:00 (midnight + 1 h grace): not yet.
    assert tick(datetime(2024, 3, 6, 0, 30, tzinfo=UTC)) == []
    assert tick(datetime(2024, 3, 6, 1, 5, tzinfo=UTC)) == [("window-close", date(2024, 3, 5))]
    assert tick(datetime(2024, 3, 6, 1, 20, tzinfo=UTC)) == []  # once, not every tick after
    # Nobody ran for two days: each day that closed meanwhile (inside the gate window of two
    # days) gets its final run on the first tick back.
    assert tick(datetime(2024, 3, 8, 2, 0, tzinfo=UTC)) == [
        ("window-close", date(2024, 3, 6)), ("window-close", date(2024, 3, 7))]


def add_pull_partner(runtime: Runtime, partner_id: str, api_pull: dict[str, Any] | None) -> None:
    """Another partner like PROFILE, with its own identity, token and pull channel."""
    profile = copy.deepcopy(PROFILE)
    suffix = str(sum(map(ord, partner_id)) % 1000).zfill(3)
    profile.update(id=partner_id, name=partner_id,
                   identities=[{"standard": "edifact", "qualifier": "14",
                                "id": f"9012345999{suffix}"}],
                   tokens=[{"name": "erp", "token": f"edg_test_{partner_id.replace('-', '_')}"
                                                    f"_{'0' * 24}{suffix}"}])
    profile["channels"] = {"rest": {}, **({"api_pull": api_pull} if api_pull else {})}
    with runtime.sessions.begin() as s:
        upsert_partner(s, parse_profile(profile), now=datetime.now(UTC), actor="test")


def set_pull(runtime: Runtime, api_pull: dict[str, Any]) -> None:
    with runtime.sessions.begin() as s:
        partner = s.get(Partner, PARTNER)
        assert partner is not None
        partner.profile = {**partner.profile, "channels": {"api_pull": api_pull}}


class Feed:
    """A partner's event feed on 127.0.0.1: pages of ``page`` events; records every request
    as (monotonic time, path, after); ``fail_first`` requests answer 503."""

    def __init__(self, events: list[dict[str, Any]], *, page: int = 2,
                 fail_first: int = 0) -> None:
        self.events, self.page, self.fail_first = events, page, fail_first
        self.calls: list[tuple[float, str, str]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/good/events", self.good)
        app.router.add_get("/broken/events", self.broken)
        app.router.add_get("/idle/events", self.good)
        return app

    async def good(self, request: web.Request) -> web.Response:
        self.calls.append((time.monotonic(), request.path, request.query["after"]))
        if len(self.calls) <= self.fail_first:
            return web.Response(status=503)
        after = int(request.query["after"])
        return web.json_response({"events": self.events[after:after + self.page],
                                  "next": min(after + self.page, len(self.events))})

    async def broken(self, request: web.Request) -> web.Response:
        self.calls.append((time.monotonic(), request.path, request.query["after"]))
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    def afters(self, path: str) -> list[str]:
        return [after for _, p, after in self.calls if p == path]


async def test_pull_job_polls_each_configured_partner_once_per_interval_across_processes(
        engine: Engine, tmp_path: Path, aiohttp_server) -> None:
    runtime = make_runtime(engine, tmp_path)
    feed = Feed([cloud_event(order(f"PO-{n}"), time=NOW) for n in range(3)])
    server = await aiohttp_server(feed.app())
    set_pull(runtime, {"base_url": str(server.make_url("/good")), "interval_seconds": 60,
                       "rate_per_second": 50})
    add_pull_partner(runtime, "reco-broken", {"base_url": str(server.make_url("/broken")),
                                              "interval_seconds": 60})
    # Import refuses an interval of 0 (ProfileError); a profile stored before that check,
    # written straight into the database here, is still refused by the job, never polled.
    add_pull_partner(runtime, "reco-misconfigured", {"base_url": str(server.make_url("/idle")),
                                                     "interval_seconds": 60})
    with runtime.sessions.begin() as s:
        stored = s.get(Partner, "reco-misconfigured")
        assert stored is not None
        stored.profile = {**stored.profile, "channels": {"api_pull": {
            "base_url": str(server.make_url("/idle")), "interval_seconds": 0}}}
    add_pull_partner(runtime, "reco-push-only", None)  # calls our API: nothing to poll
    a = PullJob(runtime, holder="proc-a", backoff=0.01)
    b = PullJob(runtime, holder="proc-b", backoff=0.01)

    # Two processes tick at the same moment: each partner is polled by exactly one of them.
    first, second = await asyncio.gather(a.poll_due(NOW), b.poll_due(NOW))
    assert set(first).isdisjoint(second)
    polled = {**first, **second}
    assert set(polled) == {PARTNER, "reco-broken"}
    assert polled[PARTNER] == 3
    assert "is not" in str(polled["reco-broken"])  # named, and the good partner went on
    assert feed.afters("/good/events") == ["0", "2", "3"]
    assert feed.afters("/idle/events") == []  # interval 0 is refused, never polled
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(
            Event.path == "api", Event.partner_id == PARTNER)) == 3
        broken = s.get(PullCursor, "reco-broken")
        assert broken is not None and "is not" in broken.last_error
        leases = set(s.scalars(select(JobLease.name).where(JobLease.name.like("pull:%"))))
    assert leases == {f"pull:{PARTNER}", "pull:reco-broken"}

    # Inside the interval nobody polls, the process that did included.
    half = NOW + timedelta(seconds=30)
    assert await a.poll_due(half) == {} and await b.poll_due(half) == {}
    # One interval after the last poll began, whichever process ticks first polls.
    later = NOW + timedelta(seconds=60)
    assert await b.poll_due(later) == {PARTNER: 0, "reco-broken": polled["reco-broken"]}
    assert await a.poll_due(later + timedelta(seconds=1)) == {}
    assert feed.afters("/good/events") == ["0", "2", "3", "3"]  # on from the stored cursor


async def test_pull_connector_gives_up_with_a_named_error(engine: Engine, tmp_path: Path,
                                                          aiohttp_server) -> None:
    runtime = make_runtime(engine, tmp_path)
    feed = Feed([], fail_first=100)
    server = await aiohttp_server(feed.app())
    set_pull(runtime, {"base_url": str(server.make_url("/good")), "rate_per_second": 100})
    async with aiohttp.ClientSession() as http:
        with pytest.raises(PullError, match=r"gave up after 3 attempts: .* answered 503"):
            await PullConnector(runtime, http, attempts=3, backoff=0.001).poll(PARTNER)
    assert len(feed.calls) == 3


async def test_scheduler_runs_the_pull_on_its_loop_rate_limited_with_retries(
        engine: Engine, tmp_path: Path, aiohttp_server) -> None:
    runtime = make_runtime(engine, tmp_path)
    feed = Feed([cloud_event(order(f"PO-{n}"), time=NOW) for n in range(4)], page=1,
                fail_first=1)
    server = await aiohttp_server(feed.app())
    rate, interval = 10, 1.0
    set_pull(runtime, {"base_url": str(server.make_url("/good")),
                       "interval_seconds": interval, "rate_per_second": rate})
    # Configured as gateway/jobs/scheduler.py configures the process's scheduler.
    scheduler = AsyncIOScheduler(executors={"default": ThreadPoolExecutor(2)},
                                 job_defaults={"coalesce": True, "max_instances": 1,
                                               "misfire_grace_time": 30})
    pull = register_reconcile_jobs(scheduler, runtime, pull_tick_seconds=0.1)
    pull.backoff = 0.05
    assert scheduler.get_job("reconcile") is not None
    scheduler.start()
    scheduler.modify_job("api-pull", next_run_time=datetime.now(UTC))  # not in 5 s
    try:
        deadline = time.monotonic() + 20
        # Done when every event is stored and a second poll has read from the cursor.
        while feed.afters("/good/events").count("4") < 2:
            assert time.monotonic() < deadline, f"no second poll; requests: {feed.calls}"
            await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)
        await pull.close()
    afters = feed.afters("/good/events")
    assert afters[:6] == ["0", "0", "1", "2", "3", "4"]  # a 503, retried; then page by page
    times = [t for t, _, _ in feed.calls]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # The partner's rate holds across pages, retries and polls (10 ms of timer slack).
    assert min(gaps) >= 1 / rate - 0.01, gaps
    # The second poll began at least one interval after the first.
    assert times[6] - times[0] >= interval - 0.05
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(
            Event.path == "api", Event.partner_id == PARTNER)) == 4
        assert s.get(PullCursor, PARTNER).cursor == "4"


async def test_pull_connector_stores_api_events_and_survives_a_500(
        engine: Engine, tmp_path: Path, aiohttp_server) -> None:
    runtime = make_runtime(engine, tmp_path)
    feed = [cloud_event(order(f"PO-{n}"), time=NOW) for n in range(3)]
    calls: list[str] = []

    async def events(request: web.Request) -> web.Response:
        calls.append(request.query["after"])
        if len(calls) == 1:
            return web.Response(status=503)  # transient: retried
        after = int(request.query["after"])
        return web.json_response({"events": feed[after:after + 2],
                                  "next": min(after + 2, len(feed))})

    app = web.Application()
    app.router.add_get("/api/events", events)
    server = await aiohttp_server(app)
    with runtime.sessions.begin() as s:
        partner = s.get(Partner, PARTNER)
        assert partner is not None
        partner.profile = {**partner.profile, "channels": {"api_pull": {
            "base_url": str(server.make_url("/api")), "rate_per_second": 50}}}
    async with aiohttp.ClientSession() as http:
        connector = PullConnector(runtime, http, backoff=0.01)
        assert await connector.poll(PARTNER) == 3
        assert await connector.poll(PARTNER) == 0  # cursor stored: nothing new
    assert calls == ["0", "0", "2", "3", "3"]
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Event).where(
            Event.path == "api", Event.partner_id == PARTNER)) == 3


async def test_pull_connector_names_a_broken_feed(engine: Engine, tmp_path: Path,
                                                  aiohttp_server) -> None:
    runtime = make_runtime(engine, tmp_path)

    async def events(_request: web.Request) -> web.Response:
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/api/events", events)
    server = await aiohttp_server(app)
    with runtime.sessions.begin() as s:
        partner = s.get(Partner, PARTNER)
        assert partner is not None
        partner.profile = {**partner.profile, "channels": {"api_pull": {
            "base_url": str(server.make_url("/api"))}}}
    async with aiohttp.ClientSession() as http:
        with pytest.raises(PullError, match=r"is not .*events"):
            await PullConnector(runtime, http).poll(PARTNER)


def test_cli_reconcile_prints_agreement_and_differences(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI opens its database from settings: its own SQLite file here.
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    upgrade(engine)
    runtime = make_runtime(engine, tmp_path)
    set_dual(runtime)
    now = datetime.now(UTC)
    store_edi(runtime, order("PO-A"), time=now, recorded_at=now)
    monkeypatch.setenv("EDIGATE_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("EDIGATE_SERVER_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    since = (now - timedelta(days=1)).date().isoformat()
    result = runner.invoke(cli_main, ["reconcile", "--partner", PARTNER, "--since", since,
                                      "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["run"]["counts"]["pending"] == 1
    table = runner.invoke(cli_main, ["reconcile", "--partner", PARTNER, "--since", since])
    assert table.exit_code == 0 and "Agreement of reco-seals" in table.output
    bad = runner.invoke(cli_main, ["reconcile", "--partner", "nobody", "--since", since])
    assert bad.exit_code == 1 and "no partner 'nobody'" in bad.output
    worse = runner.invoke(cli_main, ["reconcile", "--partner", PARTNER, "--since", "03/04"])
    assert worse.exit_code == 1 and "--since must be a date" in worse.output
