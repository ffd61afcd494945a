"""The ``intake`` console. Each module registers one area's commands.

Errors are one clear line on stderr and a non-zero exit, never a traceback
(set INTAKE_DEBUG=1 to see the traceback of an unexpected error).
"""
from __future__ import annotations

import os

import click
from flask.cli import FlaskGroup

from ..errors import IntakeError


def _create_app():
    from .. import create_app

    return create_app()


class IntakeGroup(FlaskGroup):
    """Turns every error into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except IntakeError as exc:
            raise click.ClickException(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - the console never shows a traceback by default
            if os.environ.get("INTAKE_DEBUG"):
                raise
            raise click.ClickException(f"{type(exc).__name__}: {exc} (set INTAKE_DEBUG=1 for details)") from None


@click.group(cls=IntakeGroup, create_app=_create_app, add_default_commands=False, add_version_option=False,
             set_debug_flag=False, load_dotenv=False)
def cli() -> None:
    """Intake: collect mail from many mailboxes into helpdesk tickets."""


from . import admin, collect, mail, oauth, rules, tickets  # noqa: E402  - modules register their commands on `cli`

admin.register(cli)
collect.register(cli)
oauth.register(cli)
tickets.register(cli)
mail.register(cli)
rules.register(cli)


def main() -> None:
    cli.main(prog_name="intake")
