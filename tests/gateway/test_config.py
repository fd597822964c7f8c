from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import SETTINGS, ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edigate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_serve_embedded_sqlite_on_loopback() -> None:
    settings = load_settings(None, environ={})
    assert settings.listen == "127.0.0.1:8080"
    assert settings.resolved_database_url == "sqlite:///var/edigate.db"
    assert settings.max_body_bytes == 64 * 1024 * 1024
    assert settings.sources["listen"] == "default"


def test_file_values_are_read_and_environment_wins(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nlisten = "0.0.0.0:9000"\nmax_body = "2MiB"\n'
                           '[log]\nformat = "json"\n')
    settings = load_settings(path, environ={"EDIGATE_SERVER_LISTEN": "127.0.0.1:9100"})
    assert settings.listen == "127.0.0.1:9100"
    assert settings.sources["listen"] == "environment EDIGATE_SERVER_LISTEN"
    assert settings.max_body_bytes == 2 * 1024 * 1024
    assert settings.log_format == "json"
    assert settings.port == 9100


def test_postgres_url_gets_the_psycopg3_driver() -> None:
    settings = load_settings(None, environ={"EDIGATE_DATABASE_URL": "postgresql://u@h/db"})
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(("text", "env", "fragment"), [
    ('[server]\nlisten = "nonsense"\n', {}, "server.listen"),
    ('[server]\nlisten = "127.0.0.1:70000"\n', {}, "port must be 0-65535"),
    ('[log]\nformat = "xml"\n', {}, "log.format"),
    ('[server]\nmax_body = "-3"\n', {}, "server.max_body"),
    ('[server]\nlistn = "127.0.0.1:1"\n', {}, "unknown key 'server.listn'"),
    ('[database]\nurl = "mysql://x"\n', {}, "database.url"),
    ('[server]\ntls_cert = "a.pem"\n', {}, "tls_cert and server.tls_key"),
    ("[server\n", {}, "not valid TOML"),
    ("", {"EDIGATE_LOG_LEVEL": "loud"}, "EDIGATE_LOG_LEVEL"),
    ("", {"EDIGATE_LISTEN": "x"}, "unknown environment variable EDIGATE_LISTEN"),
    ("", {"EDIGATE_JOBS_ENABLED": "perhaps"}, "jobs.enabled"),
])
def test_invalid_configuration_names_the_key(tmp_path: Path, text: str, env: dict[str, str],
                                             fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), environ=env)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_every_setting_has_a_distinct_environment_variable() -> None:
    names = [s.env_var for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(n.startswith("EDIGATE_") for n in names)


def test_readme_configuration_table_is_generated_from_the_settings() -> None:
    """The README table is derived data: regenerate it with `edigate config reference`."""
    from pathlib import Path

    from gateway.cli.commands.config import END, START, reference_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert table == reference_table(), "README is stale: paste `edigate config reference`"


# ------------------------------------------------------------------ every key, end to end

# A valid value other than the default, per key: (TOML literal, environment text, parsed).
SPECIAL: dict[str, tuple[str, str, object]] = {
    "database.url": ('"sqlite:///other.db"', "sqlite:///other.db", "sqlite:///other.db"),
    "server.listen": ('"127.0.0.1:9100"', "127.0.0.1:9100", "127.0.0.1:9100"),
    "server.max_body": ('"2MiB"', "2MiB", 2 << 20),
    "sftp.listen": ('"127.0.0.1:2022"', "127.0.0.1:2022", "127.0.0.1:2022"),
    "log.format": ('"json"', "json", "json"),
    "log.level": ('"debug"', "debug", "debug"),
    "inbox.workers": ("3", "3", 3),
    "planning.solver": ('"cbc"', "cbc", "cbc"),
    "planning.method": ('"decompose"', "decompose", "decompose"),
    "planning.service_level": ("0.9", "0.9", 0.9),
    "planning.max_supplier_share": ("0.6", "0.6", 0.6),
    "planning.value_threshold": ('"off"', "off", None),
    "broker.url": ('"nats://127.0.0.1:4222"', "nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
    "broker.content_mode": ('"avro"', "avro", "avro"),
    "broker.max_age_seconds": ("3600.0", "3600.0", 3600.0),
    "broker.retention": ('"workqueue"', "workqueue", "workqueue"),
    "planning.freshness_days": ("{demand = 3, stock = 1.5}", "demand=3,stock=1.5",
                                {"demand": 3.0, "stock": 1.5}),
}
# Keys that only make sense together with another one.
COMPANIONS = {"server.tls_cert": {"server.tls_key": "k.pem"},
              "server.tls_key": {"server.tls_cert": "c.pem"}}


def _sample(setting) -> tuple[str, str, object]:
    if setting.toml_key in SPECIAL:
        return SPECIAL[setting.toml_key]
    default = setting.default
    if isinstance(default, bool):
        return (str(not default).lower(), str(not default).lower(), not default)
    if isinstance(default, int):
        return (str(default + 1), str(default + 1), default + 1)
    if isinstance(default, float):
        value = default / 2
        return (repr(value), repr(value), value)
    return ('"sample.pem"', "sample.pem", "sample.pem")


def _toml(values: dict[str, str]) -> str:
    tables: dict[str, list[str]] = {}
    for key, literal in values.items():
        section, _, name = key.rpartition(".")
        tables.setdefault(section, []).append(f"{name} = {literal}")
    return "".join(f"[{section}]\n" + "\n".join(lines) + "\n"
                   for section, lines in tables.items())


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.toml_key)
def test_every_key_can_be_set_in_the_file_and_the_environment(tmp_path: Path, setting) -> None:
    literal, text, expected = _sample(setting)
    assert expected != setting.default
    companions = COMPANIONS.get(setting.toml_key, {})
    from_file = load_settings(write(tmp_path, _toml(
        {setting.toml_key: literal, **{k: f'"{v}"' for k, v in companions.items()}})),
        environ={})
    assert from_file.value(setting) == expected
    assert setting.toml_key in from_file.sources[setting.attr]
    env = {setting.env_var: text}
    env.update({next(s.env_var for s in SETTINGS if s.toml_key == k): v
                for k, v in companions.items()})
    from_env = load_settings(None, environ=env)
    assert from_env.value(setting) == expected
    assert from_env.sources[setting.attr] == f"environment {setting.env_var}"


def test_planning_settings_reach_the_planner(tmp_path: Path) -> None:
    from datetime import timedelta

    from gateway.planning.config import PlanningConfig

    path = write(tmp_path, "[planning]\nperiods = 14\nsolver = \"cbc\"\ntime_limit = 12\n"
                           "value_threshold = 20000\nfirm_change_share = \"off\"\n"
                           "freshness_days = {demand = 3}\n")
    config = PlanningConfig.from_settings(load_settings(path, environ={
        "EDIGATE_PLANNING_FIRM_PERIODS": "3", "EDIGATE_PLANNING_TIME_LIMIT": "9.5"}))
    assert (config.periods, config.firm_periods) == (14, 3)
    options = config.options()
    assert (options.solver, options.time_limit, options.firm_horizon) == ("cbc", 9.5, 3)
    assert config.guardrails().value_threshold == 20000
    assert config.guardrails().firm_change_share is None
    assert config.freshness().budgets["demand"] == timedelta(days=3)
    assert config.freshness().budgets["stock"] == timedelta(days=2)  # untouched default


def test_planning_defaults_are_the_planners() -> None:
    from dataclasses import fields

    from gateway.planning.config import PlanningConfig

    planning = {s.attr.partition(".")[2]: s.default for s in SETTINGS
                if s.attr.startswith("planning.")}
    defaults = PlanningConfig()
    assert planning == {f.name: getattr(defaults, f.name) for f in fields(PlanningConfig)}
    assert PlanningConfig.from_settings(load_settings(None, environ={})) == defaults


@pytest.mark.parametrize(("text", "env", "fragment"), [
    ('[planning]\nsolver = "gurobi"\n', {}, "planning.solver"),
    ('[planning]\nhorizon = 3\n', {}, "unknown key 'planning.horizon'"),
    ("", {"EDIGATE_PLANNING_SERVICE_LEVEL": "1.5"}, "planning.service_level"),
    ("", {"EDIGATE_PLANNING_PERIODS": "0"}, "planning.periods"),
    ("", {"EDIGATE_PLANNING_FRESHNESS_DAYS": "demand"}, "planning.freshness_days"),
    ('[planning]\nfreshness_days = {weather = 2}\n', {}, "unknown source kind 'weather'"),
    ("", {"EDIGATE_NO_C_ACCEL": "maybe"}, "translators.no_c_accel"),
])
def test_invalid_planning_and_translator_settings_name_the_key(
        tmp_path: Path, text: str, env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), environ=env)
    assert fragment in str(info.value)


@pytest.mark.parametrize(("text", "env", "accelerated"), [
    ("", {"EDIGATE_NO_C_ACCEL": "1"}, False),
    ("[translators]\nno_c_accel = true\n", {}, False),
    ("[translators]\nno_c_accel = true\n", {"EDIGATE_NO_C_ACCEL": "0"}, True),
    ("", {"EDIGATE_NO_C_ACCEL": ""}, True),
])
def test_no_c_accel_reaches_both_accelerated_cores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, env: dict[str, str],
        accelerated: bool) -> None:
    from gateway.config import apply_process_settings
    from translators.mapping import engine
    from translators.validation import fast

    if engine._accel is None or fast._accel is None:
        pytest.fail("the C accelerators are not built (make test builds them)")
    monkeypatch.setattr(engine, "accelerate", True)
    monkeypatch.setattr(fast, "accelerate", True)
    apply_process_settings(load_settings(write(tmp_path, text), environ=env))
    assert (engine.accelerate, fast.accelerate) == (accelerated, accelerated)


def test_no_c_accel_in_the_environment_is_accepted_and_read_at_import(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env["EDIGATE_NO_C_ACCEL"] = "1"
    shown = subprocess.run([sys.executable, "-m", "gateway", "config", "show"], cwd=root,
                           env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if x.startswith("translators.no_c_accel"))
    assert "True" in line and "environment EDIGATE_NO_C_ACCEL" in line
    probe = ("import translators.mapping.engine as e, translators.validation.fast as f; "
             "print(e.accelerate, f.accelerate)")
    read = subprocess.run([sys.executable, "-c", probe], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert read.stdout.split() == ["False", "False"], read.stderr


def test_readme_table_is_the_output_of_config_reference() -> None:
    from click.testing import CliRunner

    from gateway.cli import cli
    from gateway.cli.commands.config import END, START

    result = CliRunner().invoke(cli, ["config", "reference"])
    assert result.exit_code == 0, result.output
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert table == result.stdout.strip()
    listed = {line.split("`")[1] for line in table.splitlines()[2:]}
    assert listed == {s.toml_key for s in SETTINGS}
    assert "`EDIGATE_NO_C_ACCEL`" in table and "`planning.value_threshold`" in table


def test_readme_configuration_example_is_accepted(tmp_path: Path) -> None:
    from gateway.planning.config import PlanningConfig

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    settings = load_settings(write(tmp_path, example), environ={})
    assert settings.no_c_accel is True
    config = PlanningConfig.from_settings(settings)
    assert (config.periods, config.solver, config.value_threshold) == (14, "cbc", 20000)
