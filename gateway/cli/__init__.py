"""The ``edigate`` command.

Sub-commands live one per module in :mod:`gateway.cli.commands`; each module exposes a click
command or group named ``command``. Adding a command means adding a module, so features land
without editing a central list.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from gateway import __version__
from gateway.cli import commands as _commands_pkg


class CliError(click.ClickException):
    """A failure the user can act on: printed as one line, exit code 1 (never a traceback)."""

    def show(self, file=None) -> None:  # type: ignore[override]
        click.echo(f"edigate: error: {self.format_message()}", err=True, file=file)


def _discover() -> list[click.Command]:
    found: list[click.Command] = []
    for info in sorted(pkgutil.iter_modules(_commands_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{_commands_pkg.__name__}.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            found.append(command)
    return found


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edigate")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="EDIGATE_CONFIG",
    default=None,
    help="TOML configuration file (EDIGATE_* environment variables override it).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """edigate: an EDI-to-API strangler gateway."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


for _command in _discover():
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="edigate", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        click.echo("edigate: interrupted", err=True)
        sys.exit(130)
