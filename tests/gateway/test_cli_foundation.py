"""The ``edigate`` command as a user runs it: a subprocess, its output and exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def edigate(*args: str, data_dir: Path, env: dict[str, str] | None = None,
            check: bool = False) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    full_env["EDIGATE_SERVER_DATA_DIR"] = str(data_dir)
    full_env.update(env or {})
    result = subprocess.run([sys.executable, "-m", "gateway", *args], cwd=ROOT, env=full_env,
                            capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"edigate {' '.join(args)} failed: {result.stderr}")
    return result


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got: {result.stderr!r}"
    assert "Traceback" not in result.stderr
    return lines[0]


def test_help_lists_commands(tmp_path: Path) -> None:
    result = edigate("--help", data_dir=tmp_path, check=True)
    for name in ("serve", "db", "partners"):
        assert name in result.stdout
    assert "Import one partner file" in edigate("partners", "import", "--help",
                                                data_dir=tmp_path, check=True).stdout


def test_upgrade_import_list(tmp_path: Path) -> None:
    assert "upgraded empty -> " in edigate("db", "upgrade", data_dir=tmp_path, check=True).stdout
    assert "is current" in edigate("db", "upgrade", data_dir=tmp_path, check=True).stdout
    out = edigate("partners", "import", "fixtures/partners", data_dir=tmp_path, check=True)
    count = len(list((ROOT / "fixtures" / "partners").glob("*.toml")))
    assert f"imported {count} partner(s): {count} created" in out.stdout
    listed = json.loads(edigate("partners", "list", "--json", data_dir=tmp_path,
                                check=True).stdout)
    assert len(listed) == count
    acme = next(p for p in listed if p["id"] == "acme-fasteners")
    assert acme["stages"]["order_response"] == "dual"
    assert "edifact:14:4012345000009" in acme["identities"]


def test_wrong_config_is_one_clear_line(tmp_path: Path) -> None:
    line = one_error_line(edigate("db", "current", data_dir=tmp_path,
                                  env={"EDIGATE_SERVER_LISTEN": "everywhere"}))
    assert "server.listen" in line


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    from tests.gateway.live_server import refused_port

    port = refused_port()
    line = one_error_line(edigate(
        "partners", "list", data_dir=tmp_path,
        env={"EDIGATE_DATABASE_URL": f"postgresql://nobody@127.0.0.1:{port}/none"}))
    assert "unreachable" in line and f"127.0.0.1:{port}" in line


def test_missing_migration_is_one_clear_line(tmp_path: Path) -> None:
    line = one_error_line(edigate("partners", "list", data_dir=tmp_path))
    assert "edigate db upgrade" in line


@pytest.mark.parametrize(("content", "fragment"), [
    ('id = "Bad Id"\nname = "x"\nstandard = "x12"\n', "id: expected lowercase letters, digits"),
    ('id = "a"\nname = "x"\nstandard = "x13"\n', "standard: expected one of"),
    ('id = "a"\nname = "x"\nstandard = "x12"\n', "identities: an EDI partner needs"),
    ('id = "a"\nname = "x"\nstandard = "api"\n[stages]\ninvoice = "legacy"\n',
     "stages.invoice"),
    ('id = "a"\nname = "x"\nstandard = "api"\n[channels.fax]\n', "channels.fax: unknown"),
    ('id = "a"\nname = "x"\nstandard = "api"\n[[tokens]]\ntoken = "short"\n',
     "tokens[0].token: expected a string of at least 24 characters"),
])
def test_bad_partner_file_names_file_and_key(tmp_path: Path, content: str,
                                             fragment: str) -> None:
    edigate("db", "upgrade", data_dir=tmp_path, check=True)
    bad = tmp_path / "bad.toml"
    bad.write_text(content, encoding="utf-8")
    line = one_error_line(edigate("partners", "import", str(bad), data_dir=tmp_path))
    assert "bad.toml" in line and fragment in line
