"""The scenario engine: builds the simulated network from the partner profiles and plays it.

``Simulation`` owns one :class:`Supplier` per supplier profile, the plant's ERP feed and the
partners' own web endpoints (webhook receivers, the polled API). ``tick()`` advances the
scenario clock by a fraction of a day; ``run()`` ticks every ``pace`` seconds until stopped or
until the requested number of days has passed. A supplier that fails never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy.orm import Session, sessionmaker

from gateway.simulate.channels import (
    As2Sender,
    HttpEdi,
    PartnerEndpoint,
    RestApi,
    SftpMailbox,
)
from gateway.simulate.documents import Dialect
from gateway.simulate.network import Network, Scenario, load_network, load_scenario
from gateway.simulate.plant import Plant
from gateway.simulate.reading import control_counter
from gateway.simulate.supplier import Stats, Supplier, SupplierSetup

log = logging.getLogger("edigate.simulate")
FIXTURE_PARTNERS = Path(__file__).resolve().parents[2] / "fixtures" / "partners"


@dataclass
class Options:
    base_url: str  # the gateway, e.g. http://127.0.0.1:8080
    partners_dir: Path = FIXTURE_PARTNERS
    data_dir: Path | None = None  # for demo keys; None: no SFTP/AS2 set-up
    sessions: sessionmaker[Session] | None = None  # to register demo keys/certificates
    sftp: tuple[str, int] | None = None  # the hosted SFTP server, when it runs
    as2: bool = False  # the gateway answers POST /as2
    pace: float = 5.0  # seconds between ticks
    ticks_per_day: int = 4
    start: date | None = None
    seed: int | None = None
    scenario_file: Path | None = None
    our_x12: tuple[str, str] = ("EDIGATE", "ZZ")
    our_edifact: tuple[str, str] = ("EDIGATE", "ZZZ")
    control_start: Callable[[str], int] = field(default=lambda partner: 1)


def read_partner_files(directory: Path) -> list[dict[str, Any]]:
    """The raw profiles (the simulators need the demo tokens in plain text)."""
    out = []
    for path in sorted(directory.glob("*.toml")):
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        out.append(table)
    return out


def _identity(table: dict[str, Any], standard: str) -> tuple[str, str]:
    for ident in table.get("identities", []):
        if ident.get("standard") == standard:
            return str(ident["id"]), str(ident.get("qualifier", ""))
    raise ValueError(f"{table.get('id')}: no {standard} identity")


def _token(table: dict[str, Any]) -> str:
    tokens = [t["token"] for t in table.get("tokens", []) if t.get("token")]
    return tokens[0] if tokens else ""


class Simulation:
    def __init__(self, options: Options, *, network: Network | None = None,
                 scenario: Scenario | None = None) -> None:
        self.o = options
        self.network = network or load_network()
        self.scenario = scenario or load_scenario(options.scenario_file, seed=options.seed)
        self.stats = Stats()
        started = datetime.now(UTC)
        self.start = options.start or started.date()
        # Scenario time runs from the start date at this time of day, a day per ticks_per_day;
        # with a given start date (edigate demo: the scenario's) from 06:00 UTC, so a replay
        # does not depend on the hour it is started at.
        self._origin = datetime.combine(self.start, started.timetz()) if options.start is None \
            else datetime.combine(self.start, time(6), UTC)
        self.suppliers: list[Supplier] = []
        self.endpoints: list[PartnerEndpoint] = []
        self.plant: Plant | None = None
        self.http: aiohttp.ClientSession | None = None
        self.ticks = 0
        self.channels: dict[str, str] = {}

    @property
    def day(self) -> float:
        return self.ticks / self.o.ticks_per_day

    def business_now(self) -> datetime:
        """The scenario's present: what the simulated suppliers and plant call now."""
        return self._origin + timedelta(days=self.day)

    async def start_up(self) -> None:
        self.http = aiohttp.ClientSession()
        tables = read_partner_files(self.o.partners_dir)
        sftp_keys: dict[str, Path] = {}
        as2_ids: dict[str, Any] = {}
        our_cert = None
        if self.o.sessions is not None and self.o.data_dir is not None:
            from gateway.simulate.keys import ensure_as2, ensure_sftp_key

            if self.o.sftp:
                for t in tables:
                    if "sftp" in t.get("channels", {}):
                        sftp_keys[t["id"]] = await asyncio.to_thread(
                            ensure_sftp_key, self.o.sessions, self.o.data_dir, t["id"])
            if self.o.as2:
                as2_partners = [t["id"] for t in tables if "as2" in t.get("channels", {})]
                try:
                    our_cert, as2_ids = await asyncio.to_thread(
                        ensure_as2, self.o.sessions, self.o.data_dir, as2_partners)
                except Exception:
                    log.exception("AS2 demo certificates could not be set up; AS2 suppliers "
                                  "send over HTTP instead")
        for table in tables:
            if table.get("role") == "manufacturer":
                rest = RestApi(self.http, self.o.base_url, _token(table), table["id"])
                self.plant = Plant(rest, self.network, self.scenario, self.stats,
                                   start=self.start, site=str(table.get("site", "STR1")))
                continue
            supplier = await self._supplier(table, sftp_keys, as2_ids, our_cert)
            if supplier is not None:
                self.suppliers.append(supplier)
        if self.plant is None:
            self.plant = Plant(None, self.network, self.scenario, self.stats, start=self.start)
        for supplier in self.suppliers:
            supplier.on_shipment = self.plant.receive

    async def _supplier(self, table: dict[str, Any], sftp_keys: dict[str, Path],
                        as2_ids: dict[str, Any], our_cert: Any) -> Supplier | None:
        assert self.http is not None
        pid = str(table["id"])
        channels: dict[str, Any] = table.get("channels", {})
        standard = str(table.get("standard", "api"))
        token = _token(table)
        terms = self.network.suppliers.get(pid)
        http_edi = HttpEdi(self.http, self.o.base_url, token) if "http" in channels else None
        edi: Any = None
        edi_channel = ""
        fetchers: list[Any] = []
        dialect = None
        if standard in ("x12", "edifact"):
            sender = _identity(table, standard)
            ours = self.o.our_x12 if standard == "x12" else self.o.our_edifact
            dialect = Dialect(standard, str(table.get("version") or
                                            ("004010" if standard == "x12" else "D96A")),
                              sender[0], sender[1], ours[0], ours[1], str(table.get("name", pid)))
            if "as2" in channels and pid in as2_ids and our_cert is not None:
                ident = as2_ids[pid]
                from gateway.channels.as2.cms import KeyPair

                edi, edi_channel = As2Sender(self.http, f"{self.o.base_url}/as2",
                                             str(channels["as2"]["as2_id"]), "EDIGATE",
                                             KeyPair(ident.certificate, ident.key),
                                             our_cert), "as2"
            elif "sftp" in channels and pid in sftp_keys and self.o.sftp:
                edi = SftpMailbox(self.o.sftp[0], self.o.sftp[1],
                                  str(channels["sftp"]["username"]), sftp_keys[pid])
                edi_channel = "sftp"
            elif http_edi is not None:
                edi, edi_channel = http_edi, "http"
            else:
                log.warning("supplier %s has no channel the simulator can use; skipped", pid)
                return None
            if "sftp" in channels and pid in sftp_keys and self.o.sftp:
                fetchers.append(SftpMailbox(self.o.sftp[0], self.o.sftp[1],
                                            str(channels["sftp"]["username"]), sftp_keys[pid]))
            if http_edi is not None:
                fetchers.append(http_edi)
        rest = RestApi(self.http, self.o.base_url, token, pid) if (
            "rest" in channels or standard == "api") and "api_pull" not in channels else None
        setup = SupplierSetup(pid, str(table.get("name", pid)), standard,
                              str(table.get("version", "")), dict(table.get("stages", {})),
                              dialect, edi, edi_channel or "rest", fetchers, rest,
                              code=terms.code if terms else pid[:3].upper())
        supplier = Supplier(setup, self.network, self.scenario, self.stats, start=self.start,
                            next_control=control_counter(self.o.control_start(pid)))
        await self._endpoint(table, supplier)
        self.channels[pid] = setup.edi_channel
        return supplier

    async def _endpoint(self, table: dict[str, Any], supplier: Supplier) -> None:
        channels = table.get("channels", {})
        hook = channels.get("webhook", {})
        pull = channels.get("api_pull", {})
        if not hook.get("url") and not pull.get("base_url"):
            return
        url = urlsplit(str(hook.get("url") or pull.get("base_url")))

        async def on_webhook(envelope: dict[str, Any]) -> None:
            supplier.webhook_inbox.append(envelope)

        endpoint = PartnerEndpoint(url.hostname or "127.0.0.1", url.port or 80,
                                   webhook_path=url.path if hook.get("url") else "/edigate/orders",
                                   secret=str(hook.get("secret", "")), on_webhook=on_webhook)
        if pull.get("base_url"):
            endpoint.pull_prefix = urlsplit(str(pull["base_url"])).path.rstrip("/")
            supplier.s.publish = endpoint.published.append
        try:
            await endpoint.start()
        except OSError as exc:
            log.warning("supplier %s cannot listen on %s:%s (%s); it will not receive webhooks",
                        table["id"], endpoint.host, endpoint.port, exc)
            return
        self.endpoints.append(endpoint)

    async def tick(self) -> None:
        """One step of the scenario clock for every participant."""
        day = self.day
        assert self.plant is not None
        if self.ticks % self.o.ticks_per_day == 0:
            self.plant.advance(int(day))
            for supplier in self.suppliers:
                supplier.inventory(day)
        results = await asyncio.gather(*(s.step(day) for s in self.suppliers),
                                       return_exceptions=True)
        for supplier, result in zip(self.suppliers, results, strict=True):
            if isinstance(result, Exception):
                self.stats.failures[supplier.s.partner_id] += 1
                log.error("supplier %s failed a step: %r", supplier.s.partner_id, result)
        await self.plant.flush()
        self.ticks += 1

    async def run(self, stop: asyncio.Event, days: float | None = None,
                  on_tick: Callable[[Simulation], None] | None = None) -> None:
        while not stop.is_set() and (days is None or self.day < days):
            try:
                await self.tick()
            except Exception:  # the simulator is a guest in the server: never take it down
                log.exception("simulation tick failed; continuing")
                self.ticks += 1
            if on_tick is not None:
                on_tick(self)
            if self.o.pace > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.o.pace)

    async def close(self) -> None:
        for endpoint in self.endpoints:
            await endpoint.stop()
        if self.http is not None:
            await self.http.close()
