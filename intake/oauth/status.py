"""What `intake oauth status` shows: every OAuth2 account's tokens, and warnings before things expire.

Token values never appear here: only times, counts, the status and the provider's last error.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import (AuthMethod, MailAccount, OAuthAccessToken, OAuthProviderConfig, OAuthRefreshToken,
                      OAuthStatus, utcnow)

#: Warn this many days before a refresh token or client secret expires (config OAUTH_EXPIRY_WARNING_DAYS).
DEFAULT_EXPIRY_WARNING_DAYS = 14


def warning_window() -> timedelta:
    return timedelta(days=int(current_app.config.get("OAUTH_EXPIRY_WARNING_DAYS", DEFAULT_EXPIRY_WARNING_DAYS)))


def token_status() -> dict:
    """{"accounts": [...], "warnings": [...]}: one entry per OAuth2 account, JSON-able."""
    accounts = db.session.scalars(select(MailAccount).where(MailAccount.auth_method == AuthMethod.OAUTH2.value)
                                  .order_by(MailAccount.id)).all()
    entries, warnings = [], provider_warnings()
    for account in accounts:
        entry = describe(account)
        entries.append(entry)
        warnings += [f"account {account.name}: {w}" for w in entry["warnings"]]
    return {"accounts": entries, "warnings": warnings}


def describe(account: MailAccount) -> dict:
    access = db.session.get(OAuthAccessToken, account.id)
    refresh = db.session.get(OAuthRefreshToken, account.id)
    provider = account.oauth_provider
    entry = {
        "account": account.name, "account_id": account.id, "username": account.username,
        "provider": provider.name if provider else None, "grant": account.oauth_grant,
        "sasl_mechanism": account.sasl_mechanism,
        "status": account.oauth_status or OAuthStatus.NOT_AUTHORIZED.value,
        "access_token": None, "refresh_token": None,
        "last_refresh_at": refresh.last_refresh_at if refresh else (access.obtained_at if access else None),
        "last_error": account.oauth_error,
        "warnings": _account_warnings(account, refresh),
    }
    if access is not None:
        entry["access_token"] = {"expires_at": access.expires_at, "obtained_at": access.obtained_at,
                                 "scope": access.scope}
    if refresh is not None:
        entry["refresh_token"] = {"expires_at": refresh.expires_at, "obtained_at": refresh.obtained_at,
                                  "last_refresh_at": refresh.last_refresh_at, "refresh_count": refresh.refresh_count}
    return entry


def _account_warnings(account: MailAccount, refresh: OAuthRefreshToken | None) -> list[str]:
    warnings = []
    if account.oauth_status == OAuthStatus.AUTHORIZATION_NEEDED.value:
        warnings.append(f"needs authorization again ({account.oauth_error or 'the provider refused the refresh'})")
    elif (account.oauth_status or OAuthStatus.NOT_AUTHORIZED.value) == OAuthStatus.NOT_AUTHORIZED.value \
            and account.oauth_grant != "client_credentials":
        warnings.append("not authorized yet")
    if refresh is not None and refresh.expires_at is not None:
        text = _expiry(refresh.expires_at)
        if text:
            warnings.append(f"the refresh token {text}; authorize the account again before then")
    return warnings


def provider_warnings() -> list[str]:
    warnings = []
    for provider in db.session.scalars(select(OAuthProviderConfig).order_by(OAuthProviderConfig.name)):
        if provider.client_secret_expires_at is not None:
            text = _expiry(provider.client_secret_expires_at)
            if text:
                warnings.append(f"provider {provider.name}: the client secret {text}; create a new one at the "
                                f"provider and run `intake oauth providers set {provider.name} --client-secret-env VAR`")
    return warnings


def _expiry(when: datetime) -> str | None:
    now = utcnow()
    if when <= now:
        return f"expired on {when:%Y-%m-%d %H:%M} UTC"
    if when - now <= warning_window():
        return f"expires on {when:%Y-%m-%d %H:%M} UTC (in {_days(when - now)})"
    return None


def _days(delta: timedelta) -> str:
    days = delta.days
    if days >= 2:
        return f"{days} days"
    return "1 day" if days == 1 else "less than a day"
