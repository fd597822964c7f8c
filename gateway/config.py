"""Gateway configuration: a TOML file, overridden by ``EDIGATE_*`` environment variables.

Every setting is declared once in :data:`SETTINGS` (its TOML key, its environment variable, its
type, default and check), so the loader, the error messages and the README's configuration
reference all come from the same table. Invalid configuration is refused at start with a message
that names the offending key, because a gateway that starts half-configured loses documents.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """Configuration that cannot be used; the message names the key and the reason."""


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _parse_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"expected an integer, got {raw!r}")
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw).strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"expected an integer, got {raw!r}") from None


def _parse_float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError(f"expected a number, got {raw!r}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"expected a positive number, got {raw!r}")
    return value


def _parse_seconds_or_zero(raw: Any) -> float:
    value = 0.0 if raw in (0, "0") else _parse_float(raw)
    return value


def _parse_count(raw: Any) -> int:
    value = _parse_int(raw)
    if not 0 <= value <= 64:
        raise ValueError(f"expected 0 to 64, got {raw!r}")
    return value


def _parse_workers(raw: Any) -> int:
    # "auto": one worker per core but one, which the serving process keeps for receipts (at
    # least one worker, at most eight: past that the database's commits are the limit).
    if isinstance(raw, str) and raw.strip().lower() == "auto":
        return max(1, min(8, (os.cpu_count() or 2) - 1))
    return _parse_count(raw)


def _parse_size(raw: Any) -> int:
    """Bytes, with an optional KiB/MiB/GiB suffix (``64MiB``), so limits read naturally."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        text = str(raw).strip()
        units = {"gib": 1 << 30, "mib": 1 << 20, "kib": 1 << 10, "b": 1}
        multiplier = 1
        for suffix, factor in units.items():
            if text.lower().endswith(suffix):
                text, multiplier = text[: -len(suffix)].strip(), factor
                break
        try:
            value = int(text) * multiplier
        except ValueError:
            raise ValueError(f"expected a size such as 65536 or 64MiB, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"must be positive, got {raw!r}")
    return value


def _parse_flag(raw: Any) -> bool:
    """A boolean that may also be given as an empty environment variable (meaning false)."""
    if isinstance(raw, str) and not raw.strip():
        return False
    return _parse_bool(raw)


def _parse_at_least(minimum: int) -> Callable[[Any], int]:
    def parse(raw: Any) -> int:
        value = _parse_int(raw)
        if value < minimum:
            raise ValueError(f"expected an integer of at least {minimum}, got {raw!r}")
        return value

    return parse


def _parse_non_negative(raw: Any) -> float:
    value = 0.0 if raw in (0, "0") else _parse_float(raw)
    return value


def _parse_fraction(raw: Any) -> float:
    value = _parse_float(raw)
    if not value < 1:
        raise ValueError(f"expected a number strictly between 0 and 1, got {raw!r}")
    return value


def _parse_optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``off`` (or an empty value) switches the limit off; anything else goes to ``parse``."""
    def optional(raw: Any) -> Any:
        if raw is None or (isinstance(raw, str) and raw.strip().lower() in ("", "off", "none")):
            return None
        return parse(raw)

    return optional


def _parse_share(raw: Any) -> float:
    value = _parse_float(raw)
    if value > 1:
        raise ValueError(f"expected a share in (0, 1], got {raw!r}")
    return value


def _parse_days_by_kind(raw: Any) -> dict[str, float] | None:
    """A TOML table ``{demand = 3, stock = 1}`` or, in the environment, ``demand=3,stock=1``."""
    if isinstance(raw, str):
        if not raw.strip():
            return None
        table: dict[str, Any] = {}
        for item in raw.split(","):
            kind, sep, days = item.partition("=")
            if not sep or not kind.strip():
                raise ValueError(f"expected kind=days[,kind=days...], got {raw!r}")
            table[kind.strip()] = days.strip()
        raw = table
    if not isinstance(raw, Mapping):
        raise ValueError(f"expected a table of days per source kind, got {raw!r}")
    return {str(kind): _parse_float(days) for kind, days in raw.items()}


def _parse_str(raw: Any) -> str:
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise ValueError(f"expected a string, got {raw!r}")
    return str(raw)


def _one_of(*choices: str) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        text = _parse_str(raw).strip().lower()
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {raw!r}")
        return text

    return parse


def parse_listen(raw: Any) -> str:
    text = _parse_str(raw).strip()
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"expected HOST:PORT, got {raw!r}")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"port must be 0-65535, got {port!r}")
    return text


def _parse_database_url(raw: Any) -> str:
    text = _parse_str(raw).strip()
    if not text.startswith(("sqlite", "postgresql")):
        raise ValueError(f"expected a sqlite:/// or postgresql+psycopg:// URL, got {raw!r}")
    if text.startswith("postgresql://"):
        # SQLAlchemy would pick psycopg2 for the bare scheme; we ship psycopg 3.
        text = "postgresql+psycopg://" + text.removeprefix("postgresql://")
    return text


def _parse_broker_url(raw: Any) -> str:
    text = _parse_str(raw).strip()
    if text and not text.startswith(("nats://", "tls://", "amqp://", "amqps://")):
        raise ValueError(f"expected nats://HOST:PORT or amqp://USER:PASS@HOST:PORT/, got {raw!r}")
    return text


@dataclass(frozen=True)
class Setting:
    """One configuration key: where it is read from and how it is checked."""

    attr: str  # Settings attribute; "planning.x" is key x of Settings.planning
    toml_key: str  # dotted path in the TOML file, e.g. "database.url"
    parse: Callable[[Any], Any]
    default: Any
    help: str
    env: str = ""  # the environment variable when it is not derived from the TOML key

    @property
    def env_var(self) -> str:
        return self.env or "EDIGATE_" + self.toml_key.replace(".", "_").upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("database_url", "database.url", _parse_database_url, None,
            "SQLAlchemy URL; default: SQLite file edigate.db in the data directory"),
    Setting("listen", "server.listen", parse_listen, "127.0.0.1:8080",
            "HOST:PORT the HTTP listener binds (REST, AS2, HTTP EDI, dashboard)"),
    Setting("data_dir", "server.data_dir", _parse_str, "var",
            "directory for the SQLite file, quarantine, SFTP mailboxes and keys"),
    Setting("max_body_bytes", "server.max_body", _parse_size, 64 << 20,
            "largest request body accepted (bytes, or 64MiB); larger gets 413"),
    Setting("body_timeout_seconds", "server.body_timeout_seconds", _parse_float, 120.0,
            "seconds a request body may take to arrive; slower gets 408"),
    Setting("tls_cert", "server.tls_cert", _parse_str, "",
            "PEM certificate chain for HTTPS; empty serves plain HTTP"),
    Setting("tls_key", "server.tls_key", _parse_str, "",
            "PEM private key for tls_cert"),
    Setting("sftp_listen", "sftp.listen", lambda raw: parse_listen(raw) if raw else "", "",
            "HOST:PORT of the hosted SFTP server (public-key login); empty disables it"),
    Setting("log_format", "log.format", _one_of("json", "console"), "console",
            "json: one object per line; console: readable in a terminal"),
    Setting("log_level", "log.level", _one_of("debug", "info", "warning", "error"), "info",
            "lowest level written"),
    Setting("fixtures_dir", "demo.fixtures_dir", _parse_str, "",
            "partners directory loaded at start (make run sets fixtures/partners)"),
    Setting("jobs_enabled", "jobs.enabled", _parse_bool, True,
            "run scheduled jobs (reconciliation, planning, dispatch) in this process"),
    Setting("demo_simulate", "demo.simulate", _parse_bool, False,
            "run the demo supplier simulators inside the server (make run turns this on)"),
    Setting("demo_seed", "demo.seed", _parse_int, 42, "seed of the demo scenario"),
    Setting("demo_pace", "demo.pace_seconds", _parse_float, 5.0,
            "seconds between simulated supplier actions (smaller is busier)"),
    Setting("inbox_workers", "inbox.workers", _parse_workers, "auto",
            "worker processes `serve` starts to process received interchanges (see `edigate "
            "work`); auto: one per core but one (at least 1, at most 8); 0: the serving "
            "process processes them itself"),
    Setting("inbox_max_attempts", "inbox.max_attempts",
            lambda raw: max(1, _parse_count(raw)), 5,
            "processing attempts of an interchange that fails before it is quarantined "
            "(with a negative acknowledgment where one can be written)"),
    Setting("inbox_retry_base_seconds", "inbox.retry_base_seconds", _parse_seconds_or_zero,
            15.0, "wait after a failed processing attempt, doubled after each further failure "
            "(at most an hour)"),
    Setting("token_cache_seconds", "auth.token_cache_seconds", _parse_seconds_or_zero, 5.0,
            "how long a verified API token is trusted without a database look-up; a "
            "revocation reaches other processes within this time (0: look up every request)"),
    Setting("x12_id", "identity.x12_id", _parse_str, "EDIGATE",
            "our ISA06/GS02 sender id on outbound X12"),
    Setting("x12_qualifier", "identity.x12_qualifier", _parse_str, "ZZ",
            "our ISA05 qualifier"),
    Setting("edifact_id", "identity.edifact_id", _parse_str, "EDIGATE",
            "our UNB sender id on outbound EDIFACT"),
    Setting("edifact_qualifier", "identity.edifact_qualifier", _parse_str, "ZZZ",
            "our UNB sender qualifier"),
    Setting("as2_id", "identity.as2_id", _parse_str, "EDIGATE",
            "our AS2 name (AS2-To on inbound, AS2-From on outbound messages)"),
    Setting("as2_mdn_url", "identity.as2_mdn_url", _parse_str, "",
            "where partners send asynchronous MDNs; empty: /as2/mdn on this server"),
    Setting("dispatch_max_attempts", "outbox.max_attempts", _parse_int, 8,
            "delivery attempts before an outbox row moves to dead-letter"),
    Setting("dispatch_interval", "outbox.interval_seconds", _parse_float, 2.0,
            "seconds between dispatcher passes over due outbox rows"),
    Setting("webhook_tolerance", "outbox.webhook_tolerance_seconds", _parse_int, 300,
            "replay window partners should allow for our webhook signatures"),
    Setting("no_c_accel", "translators.no_c_accel", _parse_flag, False,
            "run the mapping and validation rules in Python only, without the optional C "
            "accelerators (same results, about half the speed)", env="EDIGATE_NO_C_ACCEL"),
    # The synchronization engine (gateway.planning.config.PlanningConfig reads these).
    Setting("planning.periods", "planning.periods", _parse_at_least(1), 28,
            "planning horizon in periods, starting today"),
    Setting("planning.period_days", "planning.period_days", _parse_at_least(1), 1,
            "days per planning period"),
    Setting("planning.release_periods", "planning.release_periods", _parse_at_least(1), 1,
            "orders due before this period are sent now; later ones stay planned"),
    Setting("planning.solver", "planning.solver", _one_of("highs", "cbc"), "highs",
            "MILP solver: highs or cbc"),
    Setting("planning.method", "planning.method",
            _one_of("auto", "milp", "decompose", "naive"), "auto",
            "auto, milp (one model), decompose (per-part Lagrangian, for large networks) or "
            "naive (the lot-for-lot baseline the others are measured against)"),
    Setting("planning.time_limit", "planning.time_limit", _parse_float, 60.0,
            "solver time limit in seconds; the best plan found so far is used"),
    Setting("planning.rel_gap", "planning.rel_gap", _parse_non_negative, 0.005,
            "relative optimality gap at which the solver stops"),
    Setting("planning.frozen_periods", "planning.frozen_periods", _parse_at_least(0), 0,
            "leading periods whose orders are the previous plan's, unchanged, with no new order"),
    Setting("planning.firm_periods", "planning.firm_periods", _parse_at_least(0), 7,
            "schedule lines before this period are firm call-offs (862/DELJIT), later ones "
            "forecast (830/DELFOR)"),
    Setting("planning.max_supplier_share", "planning.max_supplier_share",
            _parse_optional(_parse_share), None,
            "largest share of a part's newly ordered units one supplier may get (off: no "
            "limit)"),
    Setting("planning.change_penalty", "planning.change_penalty", _parse_non_negative, 0.01,
            "cost per unit of difference from the previous plan outside the frozen periods "
            "(damps oscillation between runs)"),
    Setting("planning.holding_rate", "planning.holding_rate", _parse_non_negative, 0.001,
            "holding cost per unit and day as a share of the cheapest unit price"),
    Setting("planning.backlog_factor", "planning.backlog_factor", _parse_non_negative, 2.0,
            "backlog penalty per unit and day as a multiple of the dearest unit price"),
    Setting("planning.fixed_order_cost", "planning.fixed_order_cost", _parse_non_negative,
            25.0, "fixed cost of placing one order line"),
    Setting("planning.line_stop_cost", "planning.line_stop_cost", _parse_non_negative,
            10_000.0, "what the plant loses per part and period short (a line stop): the "
            "shortage charge of the service stage"),
    Setting("planning.service_first", "planning.service_first", _parse_flag, True,
            "plan service before cost: never more part-periods short than the fallback, then "
            "the cheapest plan"),
    Setting("planning.service_level", "planning.service_level", _parse_fraction, 0.95,
            "service level of the safety-stock formula, strictly between 0 and 1"),
    Setting("planning.value_threshold", "planning.value_threshold",
            _parse_optional(_parse_non_negative), 50_000.0,
            "guardrail: an order line worth more waits for approval (off: no limit)"),
    Setting("planning.firm_change_share", "planning.firm_change_share",
            _parse_optional(_parse_non_negative), 0.2,
            "guardrail: a firm quantity changed by more than this share waits for approval "
            "(off: no limit)"),
    Setting("planning.interval_minutes", "planning.interval_minutes", _parse_float, 60.0,
            "minutes between scheduled planning runs"),
    Setting("planning.debounce_seconds", "planning.debounce_seconds", _parse_non_negative,
            30.0, "how long new stock, confirmation or despatch events are collected before "
            "an event-triggered run"),
    Setting("planning.max_wait_seconds", "planning.max_wait_seconds", _parse_float, 60.0,
            "the longest news waits for a run when it never stops arriving"),
    Setting("planning.freshness_days", "planning.freshness_days", _parse_days_by_kind, None,
            "age budget in days per input kind, e.g. demand=3,stock=1 (a table in TOML); "
            "empty: the optimizer's defaults"),
    Setting("broker_url", "broker.url", _parse_broker_url, "",
            "event broker the relay publishes every stored event to: nats://HOST:PORT "
            "(JetStream) or amqp://USER:PASS@HOST:PORT/VHOST (RabbitMQ); empty: no broker"),
    Setting("broker_name", "broker.name", _parse_str, "default",
            "name of the broker destination (metrics label, recorded on each publication)"),
    Setting("broker_content_mode", "broker.content_mode", _one_of("json", "avro"), "json",
            "json: structured CloudEvents JSON; avro: binary mode, Avro data, attributes in "
            "headers"),
    Setting("broker_stream", "broker.stream", _parse_str, "EDIGATE",
            "JetStream stream or RabbitMQ topic exchange, declared at start if missing"),
    Setting("broker_subject_prefix", "broker.subject_prefix", _parse_str, "edigate",
            "first token of subjects and routing keys: <prefix>.<event_type>.v<N>.<partner>"),
    Setting("broker_duplicate_window", "broker.duplicate_window_seconds", _parse_float, 120.0,
            "JetStream duplicate window of a declared stream (Nats-Msg-Id = event id)"),
    Setting("broker_max_age", "broker.max_age_seconds", _parse_seconds_or_zero, 0.0,
            "JetStream retention age of a declared stream (0: unlimited)"),
    Setting("broker_retention", "broker.retention", _one_of("limits", "interest", "workqueue"),
            "limits", "JetStream retention policy of a declared stream"),
    Setting("broker_replicas", "broker.replicas", _parse_count, 1,
            "JetStream replicas of a declared stream"),
    Setting("broker_queue", "broker.queue", _parse_str, "",
            "RabbitMQ: a durable queue declared and bound to every event (empty: none; "
            "messages no queue takes are refused and retried)"),
    Setting("broker_batch", "broker.batch", _parse_int, 500,
            "events the relay claims per pass"),
    Setting("broker_interval", "broker.interval_seconds", _parse_float, 0.2,
            "seconds between relay passes when there is nothing to publish"),
    Setting("broker_inbound_partners", "broker.inbound_partners", _parse_str, "",
            "comma-separated partners whose events are consumed from the broker "
            "(<prefix>.inbound.<partner>) into the same pipeline as POST /api/v1/events"),
)


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one gateway process."""

    database_url: str | None = None
    listen: str = "127.0.0.1:8080"
    data_dir: str = "var"
    max_body_bytes: int = 64 << 20
    tls_cert: str = ""
    tls_key: str = ""
    sftp_listen: str = ""
    log_format: str = "console"
    log_level: str = "info"
    fixtures_dir: str = ""
    jobs_enabled: bool = True
    demo_simulate: bool = False
    demo_seed: int = 42
    demo_pace: float = 5.0
    inbox_workers: int = 0
    inbox_max_attempts: int = 5
    inbox_retry_base_seconds: float = 15.0
    body_timeout_seconds: float = 120.0
    token_cache_seconds: float = 5.0
    x12_id: str = "EDIGATE"
    x12_qualifier: str = "ZZ"
    edifact_id: str = "EDIGATE"
    edifact_qualifier: str = "ZZZ"
    as2_id: str = "EDIGATE"
    as2_mdn_url: str = ""
    dispatch_max_attempts: int = 8
    dispatch_interval: float = 2.0
    webhook_tolerance: int = 300
    no_c_accel: bool = False
    # The [planning] table, key by key (read by gateway.planning.config.PlanningConfig); what
    # is not here keeps PlanningConfig's default.
    planning: Mapping[str, Any] = field(default_factory=dict)
    broker_url: str = ""
    broker_name: str = "default"
    broker_content_mode: str = "json"
    broker_stream: str = "EDIGATE"
    broker_subject_prefix: str = "edigate"
    broker_duplicate_window: float = 120.0
    broker_max_age: float = 0.0
    broker_retention: str = "limits"
    broker_replicas: int = 1
    broker_queue: str = ""
    broker_batch: int = 500
    broker_interval: float = 0.2
    broker_inbound_partners: str = ""
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    def value(self, setting: Setting) -> Any:
        """The value of one entry of SETTINGS."""
        group, _, key = setting.attr.partition(".")
        if key:
            return getattr(self, group).get(key, setting.default)
        return getattr(self, setting.attr)

    @cached_property  # read by every receiving request
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_path / 'edigate.db'}"

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


def _lookup(table: Mapping[str, Any], dotted: str) -> Any:
    node: Any = table
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


_MISSING = object()


def _known_toml_keys() -> set[str]:
    return {s.toml_key for s in SETTINGS}


def _unknown_keys(table: Mapping[str, Any], prefix: str = "") -> list[str]:
    unknown: list[str] = []
    known = _known_toml_keys()
    sections = {k.split(".")[0] for k in known}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and not prefix and key in sections:
            unknown.extend(_unknown_keys(value, prefix=f"{dotted}."))
        elif dotted not in known:
            unknown.append(dotted)
    return unknown


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read the TOML file (if any), apply ``EDIGATE_*`` overrides, validate every key."""
    env = os.environ if environ is None else environ
    table: Mapping[str, Any] = {}
    if path:
        file = Path(path)
        try:
            table = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {file} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file} is not valid TOML: {exc}") from None
        unknown = _unknown_keys(table)
        if unknown:
            raise ConfigError(
                f"{file}: unknown key {unknown[0]!r} "
                f"(known: {', '.join(sorted(_known_toml_keys()))})"
            )
    known_env = {s.env_var for s in SETTINGS} | {"EDIGATE_CONFIG"}
    stray = sorted(k for k in env if k.startswith("EDIGATE_") and k not in known_env
                   and not k.startswith("EDIGATE_TEST_"))
    if stray:
        raise ConfigError(f"unknown environment variable {stray[0]}")

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        raw, origin = _MISSING, "default"
        if setting.env_var in env:
            raw, origin = env[setting.env_var], f"environment {setting.env_var}"
        else:
            from_file = _lookup(table, setting.toml_key)
            if from_file is not _MISSING:
                raw, origin = from_file, f"{path} [{setting.toml_key}]"
        if raw is _MISSING:
            # ("auto" defaults are resolved here, on the machine that runs)
            values[setting.attr] = (setting.parse(setting.default)
                                    if setting.default == "auto" else setting.default)
        else:
            try:
                values[setting.attr] = setting.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{setting.toml_key} ({origin}): {exc}") from None
        sources[setting.attr] = origin
    if bool(values["tls_cert"]) != bool(values["tls_key"]):
        raise ConfigError("server.tls_cert and server.tls_key must be set together")
    planning = {attr.partition(".")[2]: values.pop(attr)
                for attr in [a for a in values if a.startswith("planning.")]}
    if any(sources[f"planning.{key}"] != "default" for key in planning):
        _check_planning(planning)
    known_attrs = {f.name for f in fields(Settings)}
    assert set(values) <= known_attrs
    return Settings(**values, planning=planning, sources=sources)


def _check_planning(planning: Mapping[str, Any]) -> None:
    """The planning values together (solver options, guardrails, freshness kinds), at start."""
    from gateway.planning.config import PlanningConfig  # the optimizer: only when configured

    try:
        PlanningConfig.from_mapping(dict(planning)).freshness()
    except ValueError as exc:
        raise ConfigError(f"planning: {exc}") from None


def apply_process_settings(settings: Settings) -> None:
    """Settings that the pure cores read as module switches, set for this process.

    The cores also read ``EDIGATE_NO_C_ACCEL`` at import (a library user gets the same switch);
    this makes the TOML key ``translators.no_c_accel`` work as well, and an environment value
    of 0 turn them back on.
    """
    from gateway.pipeline.identity import set_default_receivers
    from translators.mapping import engine
    from translators.validation import fast

    set_default_receivers((settings.x12_qualifier, settings.x12_id),
                          (settings.edifact_qualifier, settings.edifact_id))

    for module in (engine, fast):
        module.accelerate = module._accel is not None and not settings.no_c_accel
