"""``edigate translate/validate/ack/parse/render/replay`` on hostile files: one clear line on
stderr and a non-zero exit (or a result), never a traceback.

Run as real subprocesses, the way a user (or a cron job) runs them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.translators.edi_builders import ORDERS, PO_850, edifact, x12

EDIGATE = str(Path(sys.executable).with_name("edigate"))
COMMANDS = ("translate", "validate", "ack", "parse")


def _run(*args: str, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([EDIGATE, *args], capture_output=True, timeout=120, cwd=cwd,
                          env={**os.environ, **(env or {})}, check=False)


def _assert_clean(done: subprocess.CompletedProcess[bytes], *, may_succeed: bool) -> None:
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    assert "Traceback" not in done.stdout.decode("utf-8", "replace")[:10_000]
    errors = [line for line in stderr.splitlines() if line.startswith("edigate: error:")]
    if done.returncode == 0 or (not errors and done.stdout):
        # A result (validate exits 1 after printing its table when the file has errors).
        assert may_succeed, stderr
        assert done.stdout
    else:
        assert len(errors) == 1, stderr
        assert len(errors[0]) < 600


def _hostile_files(root: Path) -> dict[str, tuple[Path, bool]]:
    """name -> (path, whether a result on stdout with exit 0 is a fine answer)."""
    files: dict[str, tuple[bytes | None, bool]] = {
        "empty": (b"", False),
        "binary": (bytes(range(256)) * 40, False),
        "nul bytes": (b"\0" * 5000, False),
        "x12 100k digits then a letter": (
            x12(["BEG*00*SA*PO-1001**20260105",
                 "PO1*1*" + "1" * 100_000 + "A*EA*2.5**BP*PART-1", "CTT*1"]), True),
        "edifact 100k release characters": (edifact([*ORDERS[:2], "FTX+AAI+++" + "?" * 100_000,
                                                     *ORDERS[2:]]), True),
        "5000-digit SE01": (x12(PO_850).replace(b"SE*7*0001", b"SE*" + b"9" * 5000 + b"*0001"),
                            True),
        "superscript digits": (x12(PO_850).replace(b"SE*7*", "SE*7\u00b2*".encode()), True),
        "non-ascii terminator": (x12(PO_850).replace(b"~", b"\xa7"), True),
        "invalid utf-8 and markup": (
            edifact([*ORDERS[:2], "FTX+AAI+++[/bold] [red]x", *ORDERS[2:]], syntax="UNOW:4")
            .replace(b"[red]x", b"[red]\xff\xfe\x80"), True),
        "long message type": (edifact(ORDERS, message="O" * 300), True),
        "truncated": (edifact(ORDERS)[:120], True),
        "many interchanges": (edifact(ORDERS) * 200, True),
    }
    out: dict[str, tuple[Path, bool]] = {}
    for index, (name, (data, ok)) in enumerate(files.items()):
        path = root / f"hostile-{index}.edi"
        path.write_bytes(data or b"")
        out[name] = (path, ok)
    directory = root / "a-directory"
    directory.mkdir()
    out["directory"] = (directory, False)
    out["missing"] = (root / "missing.edi", False)
    huge = root / "huge.edi"
    with huge.open("wb") as handle:
        handle.truncate(300 * 1024 * 1024)  # sparse: over the CLI's size limit, no disk used
    out["huge"] = (huge, False)
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, bool]]:
    return _hostile_files(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_hostile_file_gets_one_line_or_a_result(
        command: str, hostile: dict[str, tuple[Path, bool]]) -> None:
    for name, (path, may_succeed) in hostile.items():
        done = _run(command, str(path))
        try:
            _assert_clean(done, may_succeed=may_succeed)
        except AssertionError as exc:
            raise AssertionError(f"{command} {name}: {exc}") from None


def test_missing_and_directory_name_the_file(hostile: dict[str, tuple[Path, bool]]) -> None:
    for name, reason in (("missing", "No such file"), ("directory", "is a directory"),
                         ("huge", "larger than")):
        done = _run("translate", str(hostile[name][0]))
        assert done.returncode == 1
        assert reason in done.stderr.decode(), done.stderr


def test_render_with_hostile_payloads(tmp_path: Path) -> None:
    payloads = {
        "deep": "[" * 100_000 + "]" * 100_000,
        "not json": "\xff\xfe{",
        "list": "[1, 2]",
        "wrong types": json.dumps({"order_number": {"x": 1}, "order_date": 5,
                                   "lines": [{"line_number": [1], "quantity": "x" * 5000}]}),
        "nan": '{"order_number": "1", "order_date": "2024-01-01", "lines": '
               '[{"line_number": "1", "quantity": NaN}]}',
    }
    for name, text in payloads.items():
        path = tmp_path / f"{len(name)}.json"
        path.write_bytes(text.encode("utf-8", "surrogateescape") if name != "not json"
                         else b"\xff\xfe{")
        for standard in ("x12", "edifact"):
            done = _run("render", "purchase_order", str(path), "--standard", standard)
            try:
                _assert_clean(done, may_succeed=False)
            except AssertionError as exc:
                raise AssertionError(f"render {name} {standard}: {exc}") from None
    done = _run("render", "purchase_order", str(tmp_path / "missing.json"))
    _assert_clean(done, may_succeed=False)


def test_replay_without_a_usable_database(tmp_path: Path) -> None:
    for url in (f"sqlite:///{tmp_path}/none/x.db", "postgresql+psycopg://nobody@127.0.0.1:1/x"):
        done = _run("replay", "0" * 5000, "--reason", "test", cwd=tmp_path,
                    env={"EDIGATE_DATABASE_URL": url, "EDIGATE_SERVER_DATA_DIR": str(tmp_path)})
        _assert_clean(done, may_succeed=False)
