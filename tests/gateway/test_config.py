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
