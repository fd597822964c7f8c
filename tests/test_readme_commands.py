"""The README's command blocks, run as written: a user copies them, so they must work.

- the `make run` start-up lines it shows are what `db upgrade`, `partners import` and
  `tokens import` print on a fresh data folder;
- every command of the `edigate` table exists (its `--help` answers);
- the curl tour and the "follow one order" block run in bash against a real `edigate serve`
  (only the address and the scratch file are changed), and every request succeeds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from gateway.cli import cli
from tests.gateway.live_server import OPERATORS, PARTNERS, ROOT, LiveServer

README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def _block_after(heading: str, language: str) -> str:
    start = README.index(heading)
    for match in BLOCK.finditer(README, start):
        if match.group(1) == language:
            return match.group(2)
    raise AssertionError(f"no {language} block after {heading!r}")


def _env(data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env["EDIGATE_SERVER_DATA_DIR"] = data_dir
    return env


def test_the_start_up_lines_shown_are_what_make_run_prints(tmp_path: Path) -> None:
    shown = _block_after("## What you see after `make run`", "text").splitlines()
    printed: list[str] = []
    for args in (["db", "upgrade"], ["partners", "import", str(PARTNERS)],
                 ["tokens", "import", str(OPERATORS)]):
        done = subprocess.run([sys.executable, "-m", "gateway", *args], cwd=tmp_path,
                              env=_env("var"), capture_output=True, text=True, timeout=120,
                              check=True)
        printed.append(done.stdout.strip())
    assert printed == shown[:3], "the README's first lines after `make run` are out of date"


def _words(span: str) -> list[list[str]]:
    """`tokens create\\|import` -> [["tokens", "create"], ["tokens", "import"]]: the leading
    command words of a code span (up to the first argument, option or placeholder)."""
    words: list[str] = []
    for token in span.replace("\\|", "|").split():
        if not re.fullmatch(r"[a-z][a-z|-]*", token):
            break
        words.append(token)
    variants: list[list[str]] = [[]]
    for word in words:
        variants = [[*v, alt] for v in variants for alt in word.split("|")]
    return variants


def _resolves(words: list[str]) -> bool:
    command: click.Command = cli
    ctx = click.Context(cli)
    for word in words:
        if not isinstance(command, click.Group):
            return False
        found = command.get_command(ctx, word)
        if found is None:
            return False
        command = found
    return bool(words) and CliRunner().invoke(cli, [*words, "--help"]).exit_code == 0


def test_every_command_of_the_readme_table_exists() -> None:
    table = README[README.index("## The `edigate` command"):README.index("## Configuration")]
    checked = 0
    for row in table.splitlines():
        if not row.startswith("| `edigate"):
            continue
        first_cell = row.split(" | ")[0]
        spans = re.findall(r"`([^`]+)`", first_cell)
        group = spans[0].split()[1]
        for index, span in enumerate(spans):
            span = span.removeprefix("edigate ")
            for words in _words(span):
                # A later span may name a sibling of the group ("`db upgrade` / `db current`",
                # "`partners import` / `list`") or a command of its own ("`validate` / `ack`").
                assert _resolves(words) or (index and _resolves([group, *words])), (
                    f"the README names `edigate {' '.join(words)}`, which does not exist")
                checked += 1
    assert checked >= 20


def _run_block(block: str, server: LiveServer, scratch: Path) -> str:
    # Only the address and the scratch file differ from what a user runs; curl fails (and with
    # it the script) on any HTTP error, so each request of the block is checked.
    script = block.replace("127.0.0.1:8080", f"127.0.0.1:{server.port}").replace(
        "/tmp/answer.json", str(scratch))
    prelude = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; echo; }\n'
    done = subprocess.run(["bash", "-c", prelude + script], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=server.env)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_curl_blocks_run_as_written(tmp_path: Path) -> None:
    # (curl is one of the programs `make test` installs: scripts/ensure-system-deps.sh)
    server = LiveServer(tmp_path / "live").prepare()
    server.start(timeout=60)
    try:
        tour = _run_block(_block_after("## A first tour with curl", "sh"), server,
                          tmp_path / "answer.json")
        answer = json.loads((tmp_path / "answer.json").read_text())
        assert answer["outcome"] == "processed" and answer["events"], answer
        assert "ISA*" in tour  # our 997
        assert '"openapi"' in tour and "despatch_advice" in tour
        order = _run_block(_block_after("## Follow one order and one despatch advice", "sh"),
                           server, tmp_path / "unused.json")
        assert order.count("{") >= 4  # four JSON answers: plan run, current plan, queue, outbox
    finally:
        server.stop()
