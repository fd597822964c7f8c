"""Partner profiles are validated completely at import, by one validator (the JSON Schema in
gateway/partners/profile.schema.json plus the checks a schema cannot express), and every kind of
bad profile is refused with one line naming the file, the key and what is allowed."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.partners.profile import ProfileError, load_profiles, parse_profile
from gateway.partners.validation import document_types, profile_schema

ROOT = Path(__file__).resolve().parents[2]
PARTNERS = ROOT / "fixtures" / "partners"
ACME = tomllib.loads((PARTNERS / "acme-fasteners.toml").read_text(encoding="utf-8"))
DOC_TYPES = ", ".join(document_types())
RECONCILE_KEYS = ("amount_abs, amount_fields, amount_rel, api_lacks, case_sensitive, date_days, "
                  "decimals, edi_lacks, fields, gate, grace_hours, ignore, quantity_abs, "
                  "quantity_fields, quantity_rel")
Edit = Callable[[dict[str, Any]], object]


def _sftp(**conf: Any) -> Edit:
    return lambda p: p["channels"].__setitem__("sftp", {"username": "acme",
                                                        "push_host": "sftp.example", **conf})


BAD: list[tuple[str, Edit, str]] = [
    # Out-of-range and wrongly typed numbers, the example first.
    ("push_port out of range", _sftp(push_port=70000),
     "channels.sftp.push_port: expected an integer from 1 to 65535, got 70000"),
    ("push_port zero", _sftp(push_port=0),
     "channels.sftp.push_port: expected an integer from 1 to 65535, got 0"),
    ("push_port as text", _sftp(push_port="22"),
     "channels.sftp.push_port: expected an integer from 1 to 65535, got string '22'"),
    ("pull interval zero",
     lambda p: p["channels"].__setitem__("api_pull", {"base_url": "http://h/api",
                                                      "interval_seconds": 0}),
     "channels.api_pull.interval_seconds: expected a number > 0 and <= 86400, got 0"),
    ("timeout as boolean", lambda p: p["channels"].__setitem__("http", {"timeout_seconds": True}),
     "channels.http.timeout_seconds: expected a number > 0 and <= 86400, got boolean True"),
    ("negative ack window", lambda p: p["outbound"].__setitem__("ack_window_minutes", -5),
     "outbound.ack_window_minutes: expected a number > 0 and <= 525600, got -5"),
    ("as2 attempts", lambda p: p["channels"]["as2"].__setitem__("max_attempts", 0),
     "channels.as2.max_attempts: expected an integer from 1 to 100, got 0"),
    # Unknown keys, at every level.
    ("unknown top-level key", lambda p: p.__setitem__("stagez", {}),
     "stagez: unknown key; allowed: channels, guides, id, identities, name, outbound, "
     "receivers, reconcile, role, schedule_driven, site, stages, standard, tokens, version"),
    ("unknown channel key", _sftp(push_prot=22),
     "channels.sftp.push_prot: unknown key; allowed: authorized_keys, push_client_keys, "
     "push_dir, push_host, push_host_keys, push_port, push_username, username"),
    ("unknown identity key",
     lambda p: p["identities"][0].__setitem__("qualifer", "14"),
     "identities[0].qualifer: unknown key; allowed: id, qualifier, standard"),
    ("unknown outbound key", lambda p: p["outbound"].__setitem__("sintax", "UNOC:3"),
     "outbound.sintax: unknown key; allowed: ack_window_minutes, charset, component_separator, "
     "element_separator, max_overdue_resends, party_id_qualifier, repetition_separator, "
     "resend_overdue, segment_suffix, segment_terminator, syntax, test_indicator"),
    # Wrong types and missing keys.
    ("name as number", lambda p: p.__setitem__("name", 5),
     "name: expected a string of 1 to 200 characters, got integer 5"),
    ("flag as text", lambda p: p.__setitem__("schedule_driven", "yes"),
     "schedule_driven: expected true or false, got string 'yes'"),
    ("guides as text", lambda p: p.__setitem__("guides", "x"),
     "guides: expected an array of non-empty strings, got string 'x'"),
    ("missing id", lambda p: p.pop("id"), "id: is required"),
    ("as2 without its id", lambda p: p["channels"]["as2"].pop("as2_id"),
     "channels.as2.as2_id: is required"),
    ("identities missing", lambda p: p.__setitem__("identities", []),
     "identities: an EDI partner needs at least one envelope identity"),
    ("bad id", lambda p: p.__setitem__("id", "ACME"),
     "id: expected lowercase letters, digits, '-' or '_', at most 64, got 'ACME'"),
    # Unknown names: channels, document types, stages, standards, algorithms, guides.
    ("unknown channel", lambda p: p["channels"].__setitem__("ftp", {}),
     "channels.ftp: unknown channel; allowed: api_pull, as2, http, rest, sftp, webhook"),
    ("unknown document type", lambda p: p["stages"].__setitem__("order_respons", "dual"),
     f"stages.order_respons: unknown document type; allowed: *, {DOC_TYPES}"),
    ("unknown stage", lambda p: p["stages"].__setitem__("invoice", "live"),
     "stages.invoice: expected one of edi, dual, api, got 'live'"),
    ("unknown standard", lambda p: p.__setitem__("standard", "tradacoms"),
     "standard: expected one of edifact, x12, api, got 'tradacoms'"),
    ("unknown identity standard", lambda p: p["identities"][0].__setitem__("standard", "x13"),
     "identities[0].standard: expected one of edifact, x12, x12-gs, got 'x13'"),
    ("unknown digest", lambda p: p["channels"]["as2"].__setitem__("digest", "md4"),
     "channels.as2.digest: unsupported digest 'md4' (supported: sha1, sha224, sha256, "
     "sha384, sha512)"),
    ("unknown mdn mode", lambda p: p["channels"]["as2"].__setitem__("mdn", "later"),
     "channels.as2.mdn: expected one of none, sync, async, got 'later'"),
    ("unknown guide", lambda p: p.__setitem__("guides", ["no-such-guide"]),
     "guides[0]: no overlay named 'no-such-guide' (known: "),
    # Values of the wrong shape.
    ("webhook url", lambda p: p["channels"].__setitem__("webhook", {"url": "ftp://h/x"}),
     "channels.webhook.url: expected an http:// or https:// URL, got 'ftp://h/x'"),
    ("short token", lambda p: p["tokens"][0].__setitem__("token", "short"),
     "tokens[0].token: expected a string of at least 24 characters, got 'short'"),
    ("token and hash both", lambda p: p["tokens"][0].update(sha256="a" * 64, prefix="edg_"),
     "tokens[0]: expected either token, or sha256 and prefix"),
    ("separator of two", lambda p: p["outbound"].__setitem__("segment_terminator", "~~"),
     "outbound.segment_terminator: expected one character, got '~~'"),
    # [reconcile]: refused at import with the reconciler's own words.
    ("reconcile unknown key", lambda p: p["reconcile"].__setitem__("treshold", 1),
     f"reconcile.treshold: unknown key; allowed: {RECONCILE_KEYS}, types"),
    ("reconcile gate unknown key", lambda p: p["reconcile"]["gate"].__setitem__("min_docs", 3),
     "reconcile.gate.min_docs: unknown key; allowed: auto_promote, min_documents, "
     "no_missing_days, threshold, window_days"),
    ("reconcile threshold as percent", lambda p: p["reconcile"]["gate"].__setitem__(
        "threshold", 99), "reconcile.gate.threshold: a fraction from 0 to 1 (0.99 = 99%), got 99"),
    ("reconcile flag as text", lambda p: p["reconcile"].__setitem__("case_sensitive", "no"),
     "reconcile.case_sensitive: expected true or false, got 'no'"),
    ("reconcile unknown type", lambda p: p["reconcile"].__setitem__("types", {"bogus": {}}),
     f"reconcile.types.bogus: unknown document type; allowed: {DOC_TYPES}"),
    ("reconcile type unknown key",
     lambda p: p["reconcile"].__setitem__("types", {"invoice": {"tolerance": 1}}),
     f"reconcile.types.invoice.tolerance: unknown key; allowed: {RECONCILE_KEYS}"),
    ("reconcile field rule", lambda p: p["reconcile"].__setitem__(
        "fields", {"lines.amount": {"compare": "number", "days": 2}}),
     "reconcile.fields.lines.amount.days: does not apply to compare = 'number'"),
    ("reconcile as value", lambda p: p.__setitem__("reconcile", "strict"),
     "reconcile: expected a table, got string 'strict'"),
]


@pytest.mark.parametrize(("edit", "message"), [(e, m) for _, e, m in BAD],
                         ids=[name for name, _, _ in BAD])
def test_each_kind_of_bad_profile_is_refused_with_its_exact_error(edit: Edit,
                                                                  message: str) -> None:
    table = copy.deepcopy(ACME)
    edit(table)
    with pytest.raises(ProfileError) as caught:
        parse_profile(table, where="acme-fasteners.toml")
    text = str(caught.value)
    assert "\n" not in text
    expected = f"acme-fasteners.toml: {message}"
    if message.endswith("(known: "):  # the overlay list grows with the repository
        assert text.startswith(expected)
    else:
        assert text == expected


def test_every_fixture_profile_passes() -> None:
    profiles = load_profiles(PARTNERS)
    assert len(profiles) == len(list(PARTNERS.glob("*.toml")))


def test_the_schema_describes_every_channel_the_gateway_knows() -> None:
    from gateway.partners.profile import CHANNELS

    assert set(profile_schema()["properties"]["channels"]["properties"]) == set(CHANNELS)


def test_a_valid_profile_keeps_its_settings() -> None:
    table = copy.deepcopy(ACME)
    _sftp(push_port=2222)(table)
    profile = parse_profile(table, where="acme-fasteners.toml")
    assert profile.channels["sftp"]["push_port"] == 2222
    assert profile.settings()["reconcile"]["gate"]["min_documents"] == 10


def test_partners_import_refuses_a_bad_file_with_the_one_line_error(tmp_path: Path) -> None:
    from gateway.cli import cli

    text = (PARTNERS / "acme-fasteners.toml").read_text(encoding="utf-8")
    bad = tmp_path / "acme-fasteners.toml"
    bad.write_text(text.replace("no_missing_days = 2", "no_missing_days = 2\nwindow = 3"),
                   encoding="utf-8")
    # Refused before any database is opened: nothing is half-imported.
    result = CliRunner().invoke(cli, ["partners", "import", str(bad)],
                                env={"EDIGATE_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code != 0
    assert not (tmp_path / "data").exists()
    assert ("acme-fasteners.toml: reconcile.gate.window: unknown key; allowed: auto_promote, "
            "min_documents, no_missing_days, threshold, window_days") in result.output


ADMIN_PROFILE = """
id = "delta-dies"
name = "Delta Dies Ltd"
standard = "x12"
version = "005010"
[[identities]]
standard = "x12"
qualifier = "ZZ"
id = "DELTADIES"
[channels.http]
"""


@pytest.mark.parametrize(("extra", "detail"), [
    ('[channels.sftp]\nusername = "delta"\npush_host = "sftp.example"\npush_port = 70000\n',
     "partner delta-dies: channels.sftp.push_port: expected an integer from 1 to 65535, "
     "got 70000"),
    ("[reconcile]\ntolerance = 1\n",
     f"partner delta-dies: reconcile.tolerance: unknown key; allowed: {RECONCILE_KEYS}, types"),
])
async def test_the_admin_api_refuses_the_same_profiles_with_the_same_words(
        client: Any, runtime: Any, extra: str, detail: str) -> None:
    from gateway.storage.models import Partner
    from tests.gateway.gateway_app import ADMIN, auth

    resp = await client.put("/api/v1/partners/delta-dies", data=ADMIN_PROFILE + extra,
                            headers={**auth(ADMIN), "Content-Type": "application/toml"})
    body = await resp.json()
    assert resp.status == 422 and body["detail"] == detail
    with runtime.sessions() as s:
        assert s.get(Partner, "delta-dies") is None  # nothing stored
