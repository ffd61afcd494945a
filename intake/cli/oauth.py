"""`intake oauth status | clear-tokens | device-login | providers add | set | list | delete`."""
from __future__ import annotations

import os

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .. import accounts as account_service
from ..errors import ValidationError
from ..extensions import db
from ..models import AuthMethod, MailAccount
from ..oauth import clear_tokens
from ..oauth import config as provider_service
from ..oauth.authorize import device_login as run_device_login
from ..oauth.status import token_status
from ._util import emit_json, table


def register(cli: click.Group) -> None:
    cli.add_command(oauth)


@click.group(cls=AppGroup)
def oauth() -> None:
    """OAuth2: providers, token status, device login, clearing tokens."""


# --- status and tokens ---
@oauth.command("status")
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Every OAuth2 account's tokens: provider, expiry, last refresh, last error, warnings."""
    report = token_status()
    if as_json:
        return emit_json(report)
    rows = []
    for entry in report["accounts"]:
        access, refresh = entry["access_token"] or {}, entry["refresh_token"] or {}
        rows.append([entry["account"], entry["provider"], entry["grant"], entry["status"],
                     _when(access.get("expires_at")), _when(refresh.get("expires_at")),
                     _when(entry["last_refresh_at"]), entry["last_error"] or ""])
    table(rows, ["ACCOUNT", "PROVIDER", "GRANT", "STATUS", "ACCESS EXPIRES", "REFRESH EXPIRES", "LAST REFRESH",
                 "LAST ERROR"])
    for warning in report["warnings"]:
        click.echo(f"warning: {warning}")


@oauth.command("clear-tokens")
@click.option("--account", "account_ref", help="Only this account (id or name).")
@click.option("--provider", "provider_ref", help="Only the accounts of this provider.")
@click.option("--yes", is_flag=True, help="Do not ask.")
def clear(account_ref: str | None, provider_ref: str | None, yes: bool) -> None:
    """Delete stored OAuth2 tokens; the accounts need authorization again."""
    if account_ref and provider_ref:
        raise click.UsageError("give --account or --provider, not both")
    query = select(MailAccount).where(MailAccount.auth_method == AuthMethod.OAUTH2.value)
    if account_ref:
        accounts = [account_service.find_account(account_ref)]
        what = f"account {accounts[0].name}"
    elif provider_ref:
        provider = provider_service.find_provider(provider_ref)
        accounts = list(db.session.scalars(query.where(MailAccount.oauth_provider_id == provider.id)))
        what = f"the {len(accounts)} account(s) of provider {provider.name}"
    else:
        accounts = list(db.session.scalars(query))
        what = f"all {len(accounts)} OAuth2 account(s)"
    if not yes:
        click.confirm(f"Delete the OAuth2 tokens of {what}? They will need authorization again", abort=True)
    removed = clear_tokens(accounts)
    db.session.commit()
    click.echo(f"{removed} token(s) of {what} deleted; authorize again to resume collection")


@oauth.command("device-login")
@click.argument("ref")
def device_login(ref: str) -> None:
    """Authorize account REF with the device grant: sign in on any device with the code shown."""
    account = account_service.find_account(ref)

    def show(device) -> None:
        click.echo(f"To authorize {account.name}, open {device.verification_uri} and enter the code {device.user_code}")
        if device.verification_uri_complete:
            click.echo(f"(or open {device.verification_uri_complete})")
        click.echo(f"Waiting for the sign-in (the code expires at {device.expires_at:%H:%M:%S} UTC)…")

    account = run_device_login(account, show)
    click.echo(f"account {account.name} authorized as {account.username}")


# --- providers ---
def provider_options(for_add: bool):
    def decorate(func):
        options = [
            click.option("--kind", required=for_add, help="Provider plugin: microsoft, google, generic."),
            click.option("--client-id", required=for_add, help="The app's client ID at the provider."),
            click.option("--client-secret-env", metavar="VAR",
                         help="Read the client secret from this environment variable (public clients have none)."),
            click.option("--client-secret-expires", "client_secret_expires_at", metavar="DATE",
                         help="When the provider stops accepting the secret (YYYY-MM-DD); warned about before."),
            click.option("--tenant", help="Microsoft: directory (tenant) ID or domain; default common."),
            click.option("--authority", help="Microsoft: identity platform base URL (national clouds)."),
            click.option("--authorize-url", help="Authorization endpoint (overrides the plugin's)."),
            click.option("--token-url", help="Token endpoint (overrides the plugin's)."),
            click.option("--device-url", help="Device authorization endpoint (overrides the plugin's)."),
            click.option("--discovery-url", help="Discovery document (.well-known/openid-configuration)."),
            click.option("--scopes", help='Space-separated scopes, e.g. "openid email offline_access …"; '
                                          "default: the plugin's for the account's protocol."),
        ]
        for option in reversed(options):
            func = option(func)
        return func
    return decorate


def _provider_values(options: dict) -> dict:
    values = {name: value for name, value in options.items() if value is not None and name != "client_secret_env"}
    variable = options.get("client_secret_env")
    if variable:
        secret = os.environ.get(variable)
        if not secret:
            raise ValidationError(f"environment variable {variable} is empty or not set")
        values["client_secret"] = secret
    return values


@oauth.group(cls=AppGroup)
def providers() -> None:
    """OAuth2 provider configurations (Microsoft, Google, any standard provider)."""


@providers.command("add")
@click.argument("name")
@provider_options(for_add=True)
def provider_add(name: str, **options) -> None:
    row = provider_service.add_provider(name, _provider_values(options))
    db.session.commit()
    click.echo(f"provider {row.name} ({row.kind}) added")
    click.echo(f"register this redirect URI at the provider: {provider_service.redirect_uri()}")


@providers.command("set")
@click.argument("name")
@provider_options(for_add=False)
def provider_set(name: str, **options) -> None:
    """Change provider NAME (e.g. a new client secret)."""
    row = provider_service.find_provider(name)
    changed = provider_service.update_provider(row, _provider_values(options))
    db.session.commit()
    click.echo(f"provider {row.name}: " + (", ".join(changed) + " changed" if changed else "nothing changed"))


@providers.command("list")
@click.option("--json", "as_json", is_flag=True)
def provider_list(as_json: bool) -> None:
    items = [provider_service.describe_provider(row) for row in provider_service.list_providers()]
    if as_json:
        return emit_json(items)
    click.echo(f"redirect URI to register at every provider: {provider_service.redirect_uri()}")
    table([[p["name"], p["kind"], p["client_id"], "yes" if p["client_secret_set"] else "no",
            _when(p["client_secret_expires_at"]), p["tenant"] or "", p["endpoints"].get("token") or
            p["endpoints"].get("error", "")] for p in items],
          ["NAME", "KIND", "CLIENT ID", "SECRET", "SECRET EXPIRES", "TENANT", "TOKEN ENDPOINT"])


@providers.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask.")
def provider_delete(name: str, yes: bool) -> None:
    row = provider_service.find_provider(name)
    if not yes:
        click.confirm(f"Delete OAuth2 provider {row.name}?", abort=True)
    provider_service.delete_provider(row)
    db.session.commit()
    click.echo(f"provider {name} deleted")


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"
