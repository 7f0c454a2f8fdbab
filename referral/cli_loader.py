"""The `flask` command's operator commands, imported when the command line asks for one.

create_app() runs in every web worker too, and a worker never runs a command: referral.cli
pulls in Alembic (with Mako and Pygments), the demo data and the services only commands reach,
megabytes in each worker's memory (issue 18). app.cli is therefore this group, which imports
referral.cli the first time the command line lists or looks up a command.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


class OperatorCommands(AppGroup):
    """app.cli, filled with referral.cli's groups on first use."""

    def __init__(self, name: str | None) -> None:
        super().__init__(name)
        self._loaded = False

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            from referral import cli

            cli.init_cli(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)


def install(app: Flask) -> None:
    """Make app.cli the lazy group, keeping any command already added to it."""
    commands = OperatorCommands(app.cli.name)
    for name, command in app.cli.commands.items():
        commands.add_command(command, name)
    app.cli = commands
