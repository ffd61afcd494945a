"""`intake accounts add | list | show | set | delete`."""
from __future__ import annotations

import os
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .. import accounts as service
from ..errors import ValidationError
from ..extensions import db
from ..models import MailAccount
from ._util import emit_json, table


def account_options(for_add: bool):
    """The options shared by `accounts add` and `accounts set` (add requires a few)."""
    def decorate(func):
        options = [
            click.option("--name", required=for_add),
            click.option("--protocol", required=for_add, help="pop3, pop3s, pop3tls, imap, imaps, imaptls, or a plugin's name."),
            click.option("--host", required=for_add),
            click.option("--port", help="Empty: the protocol's default (110/995/110, 143/993/143)."),
            click.option("--username", required=for_add),
            click.option("--password-env", metavar="VAR", help="Read the password from this environment variable."),
            click.option("--password-stdin", is_flag=True, help="Read the password from standard input."),
            click.option("--auth", "auth_method", type=click.Choice(["password", "oauth2"]),
                         help="How to log in (default password)."),
            click.option("--oauth-provider", help="OAuth2 provider configuration (see `intake oauth providers list`)."),
            click.option("--grant", "oauth_grant",
                         type=click.Choice(["authorization_code", "device_code", "client_credentials"]),
                         help="OAuth2 grant that authorizes the account."),
            click.option("--sasl", "sasl_mechanism", type=click.Choice(["xoauth2", "oauthbearer"], case_sensitive=False),
                         help="SASL mechanism that sends the OAuth2 token (default XOAUTH2)."),
            click.option("--email", help="The account's own address."),
            click.option("--folder", help="IMAP folder (default INBOX)."),
            click.option("--ca-file", help="PEM file of the CA that signed the server's certificate."),
            click.option("--verify-tls/--no-verify-tls", default=None, help="Verify the server's certificate (default on)."),
            click.option("--connect-timeout", type=int),
            click.option("--read-timeout", type=int),
            click.option("--dispatch", type=click.Choice(["to", "queue"]), help="By recipient address, or always --queue."),
            click.option("--queue", "queue", help="Queue for dispatch 'queue'."),
            click.option("--trusted/--untrusted", default=None, help="Whether X-Intake-* headers may set ticket fields."),
            click.option("--keep-on-server/--delete-after-collection", default=None),
            click.option("--validity", type=click.Choice(["valid", "invalid", "invalid-temporarily"])),
            click.option("--enabled/--disabled", default=None, help="Collected on schedule."),
            click.option("--interval", "interval_seconds", type=int, help="Polling interval in seconds (default 600)."),
            click.option("--max-messages", "max_messages_per_run", type=int, help="Messages per run at most."),
            click.option("--max-size", "max_message_size", type=int, help="Largest message in bytes; larger ones stay on the server."),
            click.option("--worker-queue", help="RQ queue whose workers collect this account."),
            click.option("--comment"),
        ]
        for option in reversed(options):
            func = option(func)
        return func
    return decorate


def _values(options: dict) -> dict:
    values = {}
    password_env, password_stdin = options.pop("password_env"), options.pop("password_stdin")
    if password_env and password_stdin:
        raise click.UsageError("give either --password-env or --password-stdin, not both")
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise ValidationError(f"environment variable {password_env} is empty or not set")
        values["password"] = password
    elif password_stdin:
        values["password"] = sys.stdin.readline().rstrip("\r\n")
        if not values["password"]:
            raise ValidationError("no password on standard input")
    for name, value in options.items():
        if value is not None:
            values[name] = value
    return values


def register(cli: click.Group) -> None:
    cli.add_command(accounts)


@click.group(cls=AppGroup)
def accounts() -> None:
    """Manage mail accounts."""


@accounts.command("add")
@account_options(for_add=True)
def add(**options) -> None:
    values = _values(options)
    if "password" not in values and values.get("auth_method", "password") == "password":
        raise click.UsageError("give the password with --password-env VAR or --password-stdin (or use --auth oauth2)")
    if db.session.scalar(select(MailAccount).where(MailAccount.name == values["name"])):
        raise ValidationError(f"an account named {values['name']!r} exists already")
    account = MailAccount(validity="valid", dispatch="to", folder="INBOX", enabled=True, verify_tls=True,
                          trusted=False, keep_on_server=False, auth_method="password")
    service.apply_settings(account, values)
    db.session.add(account)
    db.session.commit()
    click.echo(f"account {account.id} ({account.name}) added")


@accounts.command("set")
@click.argument("ref")
@account_options(for_add=False)
def set_(ref: str, **options) -> None:
    """Change settings of account REF (id or name)."""
    account = service.find_account(ref)
    changed = service.apply_settings(account, _values(options))
    db.session.commit()
    click.echo(f"account {account.id}: " + (", ".join(changed) + " changed" if changed else "nothing changed"))


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_(as_json: bool) -> None:
    items = [service.describe(a) for a in db.session.scalars(select(MailAccount).order_by(MailAccount.id))]
    if as_json:
        return emit_json(items)
    table([[a["id"], a["name"], a["protocol"], f"{a['host']}:{a['effective_port']}", a["validity"],
            "yes" if a["enabled"] else "no", a["queue"] or a["dispatch"], a["last_run_at"] or "-",
            a["last_error"] or ""] for a in items],
          ["ID", "NAME", "PROTOCOL", "SERVER", "VALIDITY", "ENABLED", "DISPATCH", "LAST RUN", "LAST ERROR"])


@accounts.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
def show(ref: str, as_json: bool) -> None:
    data = service.describe(service.find_account(ref))
    if as_json:
        return emit_json(data)
    for key, value in data.items():
        click.echo(f"{key:22} {value if value is not None else ''}")


@accounts.command("delete")
@click.argument("ref")
@click.option("--yes", is_flag=True, help="Do not ask.")
def delete(ref: str, yes: bool) -> None:
    """Delete an account and its collection history (tickets stay). Consider --disabled instead."""
    account = service.find_account(ref)
    if not yes:
        click.confirm(f"Delete account {account.name} and its collection history (tickets stay)?", abort=True)
    db.session.delete(account)
    db.session.commit()
    click.echo(f"account {ref} deleted")
