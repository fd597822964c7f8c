"""``edigate plan`` end to end through click."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from optimizer import dumps, generate


def _cli():
    from gateway.cli import cli

    return cli


def test_plan_on_a_generated_network():
    result = CliRunner().invoke(_cli(), ["plan", "--generate", "8,2,6", "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    assert "adopted" in result.output and "proven lower bound" in result.output
    assert "Largest order lines" in result.output


def test_plan_on_a_json_instance(tmp_path: Path):
    path = tmp_path / "state.json"
    path.write_text(dumps(generate(6, 2, 5, seed=3)))
    result = CliRunner().invoke(
        _cli(), ["plan", "--instance", str(path), "--solver", "cbc", "--time-limit", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "milp / cbc" in result.output


def test_plan_errors_are_one_line(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"periods": 2}')
    runner = CliRunner()
    for args, message in [
        (["plan", "--instance", str(bad), "--generate", "1,1,1"], "at most one of"),
        (["plan", "--generate", "1,x"], "PARTS,SUPPLIERS,PERIODS"),
        (["plan", "--instance", str(bad)], "$.parts: missing"),
        (["plan", "--instance", str(tmp_path / "nope.json")], "cannot read"),
    ]:
        result = runner.invoke(_cli(), args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output and "Traceback" not in result.output


def test_what_if_offline_prints_both_plans():
    result = CliRunner().invoke(_cli(), ["plan", "--generate", "10,3,8", "--time-limit", "3",
                                         "--what-if", "outage:S01:4"])
    assert result.exit_code == 0, result.output
    assert "S01 delivers nothing for 4 periods from period 0" in result.output
    assert "part-periods short" in result.output and "orders that would change" in result.output


def test_what_if_errors_are_one_line():
    runner = CliRunner()
    for args, message in [
        (["plan", "--generate", "4,2,5", "--what-if", "flood:S01"], "expected outage:"),
        (["plan", "--generate", "4,2,5", "--what-if", "outage:S09:2"],
         "unknown supplier 'S09'"),
        (["plan", "--generate", "4,2,5", "--what-if", "outage:S01:x"], "what-if 'outage:S01:x'"),
    ]:
        result = runner.invoke(_cli(), args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
