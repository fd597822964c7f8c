"""Mutational fuzzing of the HTTP ingest path, on the real aiohttp app and database.

Every mutated interchange POSTed to /edi gets an answer below 500 with a JSON body, ends in
a final state (never ``received`` forever), and ``/healthz`` keeps answering.
"""

from __future__ import annotations

import random

from sqlalchemy import select

from gateway.storage.models import Interchange
from tests.fuzz import harness
from tests.gateway.edi_samples import x12_850
from tests.gateway.gateway_app import BOLT, auth
from tests.translators.edi_builders import ORDERS, edifact

EXAMPLES = 40
FINAL = {"processed", "partial", "rejected", "quarantined", "duplicate"}


async def test_mutated_interchanges_over_http(client, runtime) -> None:
    rng = random.Random(20)
    pool = [x12_850(n, lines=2) for n in range(1, 4)] + [edifact(ORDERS)]
    for example in range(EXAMPLES):
        base = x12_850(1000 + example, lines=rng.randint(1, 3))
        data = harness.random_mutations(base, rng, pool, count=rng.randint(1, 3))
        resp = await client.post("/edi", data=data, headers=auth(BOLT))
        assert resp.status < 500, (resp.status, await resp.text(), data[:200])
        body = await resp.json()
        assert isinstance(body, dict)
        health = await client.get("/healthz")
        assert health.status == 200
    with runtime.sessions() as session:
        statuses = session.scalars(select(Interchange.status)
                                   .where(Interchange.direction == "in")).all()
    assert statuses
    assert set(statuses) <= FINAL, set(statuses) - FINAL
