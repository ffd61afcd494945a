"""Provider configurations: add, change, list, delete; the redirect URI; an account's provider.

The console and the web UI both go through these functions, so a wrong setting is
refused the same way everywhere with a message that says what to fix.
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from sqlalchemy import func, select

from ..extensions import db
from ..models import AuthMethod, MailAccount, OAuthProviderConfig
from .errors import ProviderConfigError, ProviderNotFound
from .providers import OAuthProvider, ProviderSettings, make_provider, provider_class

#: The callback route of the web app (intake/web/oauth.py); one URI for every provider.
CALLBACK_PATH = "/oauth/callback"
#: Used for the redirect URI when PUBLIC_URL is not configured and there is no web request.
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
URL_FIELDS = ("authority", "authorize_url", "token_url", "device_url", "discovery_url")
FIELDS = ("kind", "client_id", "client_secret", "client_secret_expires_at", "tenant", *URL_FIELDS, "scopes")


def redirect_uri() -> str:
    """The exact redirect URI to register at every provider.

    ``PUBLIC_URL`` (the address users reach Intake under) when configured; otherwise the
    address of the current web request; otherwise DEFAULT_PUBLIC_URL.
    """
    base = current_app.config.get("PUBLIC_URL")
    if not base and has_request_context():
        base = request.host_url
    return (base or DEFAULT_PUBLIC_URL).rstrip("/") + CALLBACK_PATH


def find_provider(ref: str | int) -> OAuthProviderConfig:
    row = None
    if isinstance(ref, int) or str(ref).isdigit():
        row = db.session.get(OAuthProviderConfig, int(ref))
    if row is None:
        row = db.session.scalar(select(OAuthProviderConfig).where(OAuthProviderConfig.name == str(ref)))
    if row is None:
        raise ProviderNotFound(f"no OAuth2 provider {ref!r} (see `intake oauth providers list`)")
    return row


def settings_of(row: OAuthProviderConfig) -> ProviderSettings:
    return ProviderSettings(
        name=row.name, kind=row.kind, client_id=row.client_id, tenant=row.tenant, authority=row.authority,
        authorize_url=row.authorize_url, token_url=row.token_url, device_url=row.device_url,
        discovery_url=row.discovery_url, scopes=tuple((row.scopes or "").split()),
    )


def plugin_of(row: OAuthProviderConfig) -> OAuthProvider:
    return make_provider(settings_of(row))


def add_provider(name: str, values: dict) -> OAuthProviderConfig:
    name = (name or "").strip()
    if not name or any(c.isspace() for c in name):
        raise ProviderConfigError("a provider needs a name without spaces (e.g. contoso-m365)")
    if db.session.scalar(select(OAuthProviderConfig).where(OAuthProviderConfig.name == name)):
        raise ProviderConfigError(f"an OAuth2 provider named {name!r} exists already; change it with "
                                  f"`intake oauth providers set {name} …`")
    row = OAuthProviderConfig(name=name, scopes="")
    update_provider(row, values)
    db.session.add(row)
    return row


def update_provider(row: OAuthProviderConfig, values: dict) -> list[str]:
    """Set and validate fields; returns the names that changed. No commit."""
    changed = []
    for field, value in values.items():
        if field not in FIELDS:
            raise ProviderConfigError(f"unknown provider setting {field!r}; settings are: {', '.join(FIELDS)}")
        if isinstance(value, str):
            value = value.strip() or None
        if field == "scopes":
            value = " ".join((value or "").split())
        if field == "client_secret_expires_at" and value is not None and not isinstance(value, datetime):
            value = _date(value)
        if getattr(row, field) != value:
            setattr(row, field, value)
            changed.append(field)
    validate(row)
    return changed


def validate(row: OAuthProviderConfig) -> None:
    if not row.kind:
        raise ProviderConfigError("a provider needs --kind (microsoft, google or generic)")
    provider_class(row.kind)  # installed?
    if not (row.client_id or "").strip():
        raise ProviderConfigError("a provider needs the client ID of the app registered at the provider (--client-id)")
    for field in URL_FIELDS:
        url = getattr(row, field)
        if url and not _is_http_url(url):
            raise ProviderConfigError(f"{field.replace('_', '-')} {url!r} is not an http(s) URL")
    plugin_of(row).validate()


def delete_provider(row: OAuthProviderConfig) -> None:
    users = db.session.scalars(select(MailAccount.name).where(MailAccount.oauth_provider_id == row.id)).all()
    if users:
        raise ProviderConfigError(f"provider {row.name} is used by account(s) {', '.join(users)}; "
                                  "move them to another provider or delete them first")
    db.session.delete(row)


def list_providers() -> list[OAuthProviderConfig]:
    return list(db.session.scalars(select(OAuthProviderConfig).order_by(func.lower(OAuthProviderConfig.name))))


def describe_provider(row: OAuthProviderConfig) -> dict:
    """A JSON-able view; the client secret appears only as set / not set."""
    data = {"id": row.id, "name": row.name, "kind": row.kind, "client_id": row.client_id,
            "client_secret_set": bool(row.client_secret), "client_secret_expires_at": row.client_secret_expires_at,
            "tenant": row.tenant}
    for field in URL_FIELDS:
        data[field] = getattr(row, field)
    data["scopes"] = row.scopes or ""
    data["redirect_uri"] = redirect_uri()
    try:
        endpoints = plugin_of(row).endpoints()
        data["endpoints"] = {"authorize": endpoints.authorize, "token": endpoints.token, "device": endpoints.device}
    except Exception as exc:  # noqa: BLE001 - a listing shows what it can (discovery may be down)
        data["endpoints"] = {"error": str(exc)}
    return data


# --- accounts ---
def check_account(account: MailAccount) -> None:
    """Validation of an account's OAuth2 settings (called by intake.accounts.validate)."""
    from ..models import OAuthGrant, OAuthStatus, SaslMechanism

    if account.auth_method != AuthMethod.OAUTH2.value:
        return
    if account.oauth_provider_id is None and account.oauth_provider is None:
        raise ProviderConfigError("an OAuth2 account needs a provider: give --oauth-provider NAME "
                                  "(see `intake oauth providers list`)")
    grants = [g.value for g in OAuthGrant]
    if account.oauth_grant not in grants:
        raise ProviderConfigError(f"an OAuth2 account needs --grant, one of {', '.join(grants)}")
    mechanisms = [m.value for m in SaslMechanism]
    mechanism = (account.sasl_mechanism or SaslMechanism.XOAUTH2.value).upper()
    if mechanism not in mechanisms:
        raise ProviderConfigError(f"the SASL mechanism must be one of {', '.join(mechanisms)}, "
                                  f"not {account.sasl_mechanism!r}")
    account.sasl_mechanism = mechanism
    if account.oauth_status is None:
        account.oauth_status = OAuthStatus.NOT_AUTHORIZED.value
    row = account.oauth_provider or db.session.get(OAuthProviderConfig, account.oauth_provider_id)
    plugin_of(row).check_grant(account.oauth_grant)


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        raise ProviderConfigError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None
