"""Every EDI file of the corpus (tests/corpus, plus the extra corpus when present) through
POST /edi on a live server.

Each file gets its own partner (the file's envelope sender as identity, its own token, the
file's envelope receivers as the [[receivers]] it addresses us by), so the gateway's identity,
receiver and control-number rules apply exactly as in production. For every file:
the answer is a clear status, the events it produced pass their JSON Schema and lead back to
the exact bytes, and an acknowledgment is stored for everything that is not itself one.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ALL_CORPUS_FILES, corpus_id
from tests.gateway.live_server import LiveServer

FILES = ALL_CORPUS_FILES
# Known faults the corpus found, each strict: the test fails as soon as the fault is fixed, so
# the entry has to go with the fix.
ACK_TYPES = {"997", "999", "CONTRL", "TA1"}
# The wider synthetic set (types and directories the copied samples lack): standard-conformant
# documents, so each must come out processed whole, one event per message, no error at all.
WIDER = {
    "edifact/synthetic_delfor_d97a.edi",
    "edifact/synthetic_deljit_d04a.edi",
    "edifact/synthetic_desadv_d07a.edi",
    "edifact/synthetic_invoic_d01b_ean011.edi",
    "edifact/synthetic_invrpt_d01b.edi",
    "edifact/synthetic_ordchg_d01b.edi",
    "edifact/synthetic_ordrsp_d10a.edi",
    "x12/synthetic_810_005010_side_loops.x12",
    "x12/synthetic_830_005010_repetition.x12",
    "x12/synthetic_846_004010.x12",
    "x12/synthetic_855_005010.x12",
    "x12/synthetic_856_005010_pallets.x12",
    "x12/synthetic_860_004010.x12",
    "x12/synthetic_862_004010_jit.x12",
}


def _token(index: int) -> str:
    return f"edg_corpus_partner_{index:04d}_00000000000000000"


def _identities(path: Path) -> set[tuple[str, str, str]]:
    from translators.syntax import parse

    return {(i.standard, i.sender_qualifier, i.sender_id)
            for i in parse(path.read_bytes()).interchanges}


def _receivers(paths: list[Path]) -> set[tuple[str, str, str]]:
    from translators.syntax import parse

    return {(i.standard, i.receiver_qualifier, i.receiver_id)
            for path in paths for i in parse(path.read_bytes()).interchanges}


def _partners() -> tuple[dict[Path, int], list[set[tuple[str, str, str]]]]:
    """One partner per sender identity; files whose senders overlap (a mailbag from several
    ids, sample files reusing "SENDER1") share one, as they would in production."""
    groups: list[tuple[set[tuple[str, str, str]], list[Path]]] = []
    for path in FILES:
        ids = _identities(path)
        if not ids:
            continue
        merged = [g for g in groups if g[0] & ids]
        for g in merged:
            groups.remove(g)
        groups.append((ids.union(*(g[0] for g in merged)),
                       [q for g in merged for q in g[1]] + [path]))
    owner = {path: n for n, (_, paths) in enumerate(groups) for path in paths}
    return owner, [ids for ids, _ in groups]


OWNER, IDENTITIES = _partners()


def _profile(index: int, identities: set[tuple[str, str, str]]) -> str:
    """A partner sending as ``identities`` that addresses us by the receivers its files name
    (the receiver check is on by default; without them every file would be refused)."""
    standard = sorted(identities)[0][0]
    lines = [f'id = "corpus-{index:03d}"', f'name = "corpus sender {index}"',
             f'standard = "{standard}"', "", "[channels.http]", "", "[[tokens]]",
             'name = "corpus"', f'token = "{_token(index)}"', ""]
    for std, qualifier, sender in sorted(identities):
        lines += ["[[identities]]", f'standard = "{std}"',
                  f"qualifier = {json.dumps(qualifier)}", f"id = {json.dumps(sender)}", ""]
    for std, qualifier, receiver in sorted(_receivers([p for p, n in OWNER.items()
                                                       if n == index])):
        lines += ["[[receivers]]", f'standard = "{std}"',
                  f"qualifier = {json.dumps(qualifier)}", f"id = {json.dumps(receiver)}", ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("corpus")
    partners = root / "partners"
    partners.mkdir()
    for index, identities in enumerate(IDENTITIES):
        (partners / f"corpus-{index:03d}.toml").write_text(_profile(index, identities),
                                                         encoding="utf-8")
    server = LiveServer(root / "data", extra_env={"EDIGATE_JOBS_ENABLED": "false"}).prepare()
    server.cli("partners", "import", str(partners))
    server.start()
    yield server
    server.stop()


def _call(live: LiveServer, method: str, path: str, token: str,
          body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{live.url}{path}", data=body, method=method,
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.parametrize("path", FILES, ids=corpus_id)
def test_corpus_file_end_to_end(live: LiveServer, path: Path) -> None:
    from schemas import default_registry

    if path not in OWNER:
        pytest.fail(f"no interchange found in {path.name}, so no partner")
    token = _token(OWNER[path])
    raw = path.read_bytes()
    status, body = _call(live, "POST", "/edi", token, raw)
    answer = json.loads(body)
    if status == 401:
        pytest.fail(f"no interchange found in {path.name}, so no partner: {answer}")
    assert status in (200, 409, 422), answer
    if status == 409:
        # Public samples reuse sender ids and control numbers ("SENDER1", 000000001): the
        # second file with other bytes is flagged, never merged into the first.
        assert answer["outcome"] == "quarantined" and "control number" in answer["detail"]
    assert answer["outcome"] in ("processed", "partial", "rejected", "quarantined"), answer
    # the receiver check is on: every file reaches a partner that lists its receivers
    assert "not one of our identities" not in answer.get("detail", ""), answer
    if corpus_id(path) in WIDER:
        assert status == 200 and answer["outcome"] == "processed", answer
        assert len(answer["events"]) == len(answer["messages"]), answer
        assert all(m["status"] == "accepted" and m["errors"] == 0
                   for m in answer["messages"]), answer
    ident = answer["interchange_id"]

    code, stored = _call(live, "GET", f"/interchanges/{ident}/raw", token)
    assert code == 200 and stored == raw, "the exact bytes are kept"

    registry = default_registry()
    for event_id in answer["events"]:
        code, lineage = _call(live, "GET", f"/lineage/{event_id}", token)
        lineage = json.loads(lineage)
        assert code == 200 and lineage["interchange"]["id"] == ident
        event = lineage["event"]
        event_type, version = registry.type_and_version(event)
        assert registry.validate(event_type, version, event["data"]) == []

    types = {m["message_type"] for m in answer["messages"]}
    if answer["outcome"] != "quarantined" and types - ACK_TYPES:
        code, ack = _call(live, "GET", f"/interchanges/{ident}/ack", token)
        assert code == 200, f"no acknowledgment stored for {path.name}"
        assert ack.startswith((b"ISA", b"UNA", b"UNB")), ack[:40]
    if answer["outcome"] in ("rejected", "partial"):
        assert answer["errors"], "a rejection comes with the error report"
