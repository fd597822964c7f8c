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


class LazyGroup(click.Group):
    """Sub-commands are imported only when used, so ``edigate db upgrade`` does not pay for
    (or depend on) the translators, the optimizer or the web app. A module's name is its
    command's name."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = {m.name for m in pkgutil.iter_modules(_commands_pkg.__path__)
                 if not m.name.startswith("_")}
        return sorted(names | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in self.list_commands(ctx):
            return None
        try:
            module = importlib.import_module(f"{_commands_pkg.__name__}.{cmd_name}")
        except ImportError as exc:
            # One broken optional part must not take --help (or every other command) down.
            reason = f"{cmd_name} is unavailable: {exc}"

            def unavailable() -> None:
                raise CliError(reason)

            return click.Command(cmd_name, callback=unavailable, help=f"(unavailable: {exc})")
        command = getattr(module, "command", None)
        return command if isinstance(command, click.Command) else None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="edigate", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        click.echo("edigate: interrupted", err=True)
        sys.exit(130)
