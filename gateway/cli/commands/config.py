"""``edigate config show|reference``: the effective configuration, and the reference table.

The README's configuration table is ``edigate config reference`` pasted between markers; a test
fails when it drifts from the settings table in gateway/config.py (one source of truth).
"""

from __future__ import annotations

import click

from gateway.cli.context import settings_from
from gateway.config import SETTINGS, Setting

START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def _default(setting: Setting) -> str:
    if setting.attr == "database_url":
        return "SQLite `<data_dir>/edigate.db`"
    value = setting.default
    if setting.attr == "max_body_bytes":
        return "`64MiB`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value is None and setting.attr.startswith("planning."):
        return "`off`" if setting.attr != "planning.freshness_days" else "empty"
    if isinstance(value, float) and value >= 1000:
        return f"`{value:.0f}`"
    return f"`{value}`" if value not in ("", None) else "empty"


def reference_table() -> str:
    lines = ["| TOML key | environment variable | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        lines.append(f"| `{s.toml_key}` | `{s.env_var}` | {_default(s)} | {s.help} |")
    return "\n".join(lines)


@click.group(name="config")
def command() -> None:
    """Show the effective configuration or print the reference of every key."""


@command.command()
@click.pass_context
def show(ctx: click.Context) -> None:
    """Every setting with its value and where it came from (default, file, environment)."""
    settings = settings_from(ctx)
    width = max(len(s.toml_key) for s in SETTINGS)
    for s in SETTINGS:
        value = settings.value(s)
        if s.attr == "database_url" and value is None:
            value = settings.resolved_database_url
        source = settings.sources.get(s.attr, "default")
        click.echo(f"{s.toml_key:<{width}}  {value!s:<40}  ({source})")


@command.command()
def reference() -> None:
    """The Markdown table of every key (as in the README)."""
    click.echo(reference_table())
