"""``edigate parse``: exit codes, one-line errors, JSON and round-trip check."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import cli


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["parse", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def test_good_file_outline_and_roundtrip(corpus_dir: Path) -> None:
    code, out, err = _run("--check-roundtrip",
                          str(corpus_dir / "x12/synthetic_duplicate_interchange.x12"))
    assert code == 1  # the same interchange control number twice in one input
    assert "interchange.duplicate_control" in err and "1502 bytes reproduced exactly" in err
    assert err.strip().splitlines()[-1].startswith("edigate: error: ")
    code, out, err = _run("--check-roundtrip", str(corpus_dir / "x12/synthetic_mailbag.x12"))
    assert code == 0, err
    assert out.count("X12 interchange") == 4 and "997 004010VICS #19020001" in out
    code, out, err = _run("--check-roundtrip",
                          str(corpus_dir / "edifact/synthetic_orders_d96a_no_una.edi"))
    assert code == 0, err
    assert "ORDERS D96A #2: 18 segments, line 18" in out and "reproduced exactly" in err


def test_json_output_is_the_tree(corpus_dir: Path) -> None:
    code, out, _ = _run("--json", str(corpus_dir / "x12/850_fat.edi"))
    document = json.loads(out)
    assert len(document["interchanges"]) == 2
    assert document["errors"][0]["kind"] == "interchange.duplicate_control"
    assert code == 1


def test_bad_input_gives_one_line_with_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.edi"
    bad.write_bytes(b"UNB+UNOA:3+S+R+240101:1200+1'\nUNH+1+ORDERS:D:96A:UN'\nUNT+5+1'\n"
                    b"UNZ+1+1'\n")
    code, _, err = _run(str(bad))
    assert code == 1
    line = err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "line 3, column 1" in line and "UNT01 says '5'" in line
    code, _, err = _run(str(tmp_path / "missing.edi"))
    assert code == 1 and "cannot read" in err
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 4)
    code, _, err = _run(str(garbage))
    assert code == 1 and "no UNA, UNB or ISA" in err
