"""``edigate certs`` as an operator runs it: import a partner's certificates (rotation), our
own key pair, list them with their state; every mistake is one clear line."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import cli
from tests.gateway.as2_helpers import make_identity
from tests.gateway.test_cli_foundation import edigate


@pytest.fixture(scope="module")
def gateway_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("certs-cli")
    edigate("db", "upgrade", data_dir=data, check=True)
    edigate("partners", "import", "fixtures/partners/acme-fasteners.toml", data_dir=data,
            check=True)
    return data


def test_import_rotation_and_list(gateway_dir: Path, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    current = make_identity("ACME-CLI")
    upcoming = make_identity("ACME-CLI-NEXT", not_before=now + timedelta(days=30),
                             not_after=now + timedelta(days=800))
    (tmp_path / "current.pem").write_bytes(current.cert_pem)
    (tmp_path / "next.pem").write_bytes(upcoming.cert_pem)
    out = edigate("certs", "import", str(tmp_path / "current.pem"), "--partner", "acme-fasteners",
                  data_dir=gateway_dir, check=True).stdout
    assert "CN=ACME-CLI" in out and "acme-fasteners" in out
    edigate("certs", "import", str(tmp_path / "next.pem"), "--partner", "acme-fasteners",
            "--label", "rotation", data_dir=gateway_dir, check=True)
    listed = json.loads(edigate("certs", "list", "acme-fasteners", "--json",
                                data_dir=gateway_dir, check=True).stdout)
    states = {row["subject"].split(",")[-1]: row["state"] for row in listed}
    assert states == {"CN=ACME-CLI": "valid", "CN=ACME-CLI-NEXT": "future"}


def test_own_key_pair_is_stored_private(gateway_dir: Path, tmp_path: Path) -> None:
    ours = make_identity("EDIGATE-CLI")
    (tmp_path / "ours.pem").write_bytes(ours.cert_pem)
    (tmp_path / "ours.key").write_bytes(ours.key_pem)
    edigate("certs", "import", "--own", str(tmp_path / "ours.pem"), "--key",
            str(tmp_path / "ours.key"), data_dir=gateway_dir, check=True)
    [key_file] = (gateway_dir / "as2" / "keys").iterdir()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    listed = json.loads(edigate("certs", "list", "--json", data_dir=gateway_dir,
                                check=True).stdout)
    assert any(r["owner"] == "(this gateway)" and r["state"] == "valid" for r in listed)


def test_mistakes_are_one_line(gateway_dir: Path, tmp_path: Path) -> None:
    other = make_identity("OTHER")
    (tmp_path / "cert.pem").write_bytes(make_identity("EDIGATE-CLI").cert_pem)
    (tmp_path / "wrong.key").write_bytes(other.key_pem)
    (tmp_path / "junk.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nnope\n")
    expired = make_identity("OLD", not_before=datetime.now(UTC) - timedelta(days=900),
                            not_after=datetime.now(UTC) - timedelta(days=1))
    (tmp_path / "expired.pem").write_bytes(expired.cert_pem)
    cases = [
        (("certs", "import", str(tmp_path / "cert.pem"), "--partner", "nobody"), "unknown partner"),
        (("certs", "import", str(tmp_path / "junk.pem"), "--partner", "acme-fasteners"),
         "not an X.509"),
        (("certs", "import", str(tmp_path / "expired.pem"), "--partner", "acme-fasteners"),
         "expired"),
        (("certs", "import", "--own", str(tmp_path / "cert.pem"), "--key",
          str(tmp_path / "wrong.key")), "does not belong"),
        (("certs", "import", "--own", str(tmp_path / "cert.pem")), "needs --key"),
        (("certs", "import", str(tmp_path / "missing.pem"), "--partner", "acme-fasteners"),
         "cannot read"),
        (("certs", "import", str(tmp_path / "cert.pem")), "either --partner"),
    ]
    # In-process (the subprocess path is covered above): each case is one line, exit 1.
    env = {"EDIGATE_SERVER_DATA_DIR": str(gateway_dir)}
    for args, expected in cases:
        result = CliRunner().invoke(cli, list(args), env=env)
        assert result.exit_code == 1, (args, result.output)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and expected in lines[0], (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
