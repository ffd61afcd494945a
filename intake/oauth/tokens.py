"""The token service: a fresh access token for an account, refreshed once and under a lock.

``credentials_for(account)`` is what the core calls (through intake.accounts.credentials)
before it authenticates a transport. The stored access token is used while it is valid
for more than the refresh margin; otherwise one worker refreshes it under the
account's refresh lock and everyone else waits and uses the result. The transport never
refreshes. A refresh the provider refuses marks the account "authorization-needed"
with the provider's error; a provider that cannot be reached leaves the status alone.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete

from ..extensions import db
from ..models import (AuthMethod, MailAccount, OAuthAccessToken, OAuthGrant, OAuthRefreshToken, OAuthStatus,
                      utcnow)
from ..transport import Credentials
from . import client
from .config import plugin_of
from .errors import AuthorizationNeeded, ProviderConfigError, ProviderRefused, ProviderUnavailable
from .locks import refresh_lock
from .providers import use_of

log = logging.getLogger(__name__)

#: Refresh an access token this long before it expires (config OAUTH_REFRESH_MARGIN_SECONDS).
DEFAULT_REFRESH_MARGIN_SECONDS = 300
#: OAuth2 error codes that say "try again later", not "this grant is dead".
TRANSIENT_ERRORS = ("temporarily_unavailable", "server_error", "slow_down")


def credentials_for(account: MailAccount, rejected: Credentials | None = None) -> Credentials:
    """Credentials with a fresh access token. ``rejected``: the server refused these, refresh once."""
    _require_oauth(account)
    rejected_token = rejected.access_token if rejected else None
    token = _usable_access_token(account.id, rejected_token)
    if token is None:
        token = _refresh_under_lock(account, rejected_token)
    return Credentials(username=account.username, access_token=token, sasl_mechanism=account.sasl_mechanism)


def store_tokens(account: MailAccount, tokens: client.TokenSet, *, refreshed: bool = False) -> None:
    """Save what the provider returned (no commit); a rotated refresh token replaces the old one."""
    now = utcnow()
    provider_id = account.oauth_provider_id
    access = db.session.get(OAuthAccessToken, account.id) or OAuthAccessToken(account_id=account.id)
    access.provider_id, access.token, access.token_type = provider_id, tokens.access_token, tokens.token_type
    access.scope, access.expires_at, access.obtained_at = tokens.scope, tokens.expires_at, now
    db.session.add(access)
    stored = db.session.get(OAuthRefreshToken, account.id)
    if tokens.refresh_token:
        if stored is None:
            stored = OAuthRefreshToken(account_id=account.id, refresh_count=0)
            db.session.add(stored)
        stored.provider_id, stored.token, stored.obtained_at = provider_id, tokens.refresh_token, now
        stored.expires_at = tokens.refresh_expires_at
    elif stored is not None and tokens.refresh_expires_at:
        stored.expires_at = tokens.refresh_expires_at
    if refreshed and stored is not None:
        stored.last_refresh_at = now
        stored.refresh_count = (stored.refresh_count or 0) + 1
        if not tokens.refresh_token and not tokens.refresh_expires_at:
            lifetime = plugin_of(account.oauth_provider).refresh_token_lifetime
            if lifetime:  # an unused-for-N-days lifetime starts again with every use
                stored.expires_at = now + lifetime
    account.oauth_status = OAuthStatus.AUTHORIZED.value
    account.oauth_error = None


def clear_tokens(accounts: list[MailAccount]) -> int:
    """Delete the accounts' tokens (no commit); they need authorization again. Returns the rows deleted."""
    ids = [a.id for a in accounts]
    if not ids:
        return 0
    removed = 0
    for model in (OAuthAccessToken, OAuthRefreshToken):
        removed += db.session.execute(delete(model).where(model.account_id.in_(ids))).rowcount or 0
    for account in accounts:
        if account.auth_method == AuthMethod.OAUTH2.value:
            account.oauth_status = OAuthStatus.NOT_AUTHORIZED.value
    return removed


def refresh_margin() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("OAUTH_REFRESH_MARGIN_SECONDS",
                                                        DEFAULT_REFRESH_MARGIN_SECONDS)))


def is_expiring(expires_at: datetime | None) -> bool:
    return expires_at is not None and expires_at - refresh_margin() <= utcnow()


# --- internals ---
def _require_oauth(account: MailAccount) -> None:
    if account.oauth_provider is None or not account.oauth_grant:
        raise ProviderConfigError(f"account {account.name} uses OAuth2 but has no provider or grant; set them with "
                                  f"`intake accounts set {account.name} --oauth-provider NAME --grant GRANT`")


def _usable_access_token(account_id: int, rejected_token: str | None) -> str | None:
    row = db.session.get(OAuthAccessToken, account_id, populate_existing=True)
    if row is None or row.token == rejected_token or is_expiring(row.expires_at):
        return None
    return row.token


def _refresh_under_lock(account: MailAccount, rejected_token: str | None) -> str:
    account_id, name = account.id, account.name
    db.session.commit()  # clean point: the lock and the refresh commit on their own
    with refresh_lock(account_id, name):
        token = _usable_access_token(account_id, rejected_token)  # refreshed by another worker meanwhile?
        if token is not None:
            return token
        account = db.session.get(MailAccount, account_id, populate_existing=True)
        return _obtain(account)


def _obtain(account: MailAccount) -> str:
    """One request to the provider for a new access token (refresh, or client credentials)."""
    row = account.oauth_provider
    provider, secret = plugin_of(row), row.client_secret
    grant = account.oauth_grant
    scopes = provider.scopes(use_of(account.protocol), grant)
    if grant == OAuthGrant.CLIENT_CREDENTIALS.value:
        def request():
            return client.client_credentials(provider, secret, scopes)
    else:
        stored = db.session.get(OAuthRefreshToken, account.id, populate_existing=True)
        if stored is None:
            raise _needs_authorization(account, "there is no refresh token (the account was never authorized, "
                                                "or its tokens were cleared)")
        refresh_token = stored.token

        def request():
            return client.refresh(provider, secret, refresh_token, scopes, grant)
    db.session.commit()  # no transaction stays open while the provider answers
    try:
        tokens = request()
    except ProviderRefused as exc:
        if exc.error in TRANSIENT_ERRORS:
            _record_error(account, str(exc))
            raise ProviderUnavailable(str(exc)) from None
        raise _needs_authorization(account, exc.summary, refresh_token_dead=exc.error == "invalid_grant") from None
    except ProviderUnavailable as exc:
        _record_error(account, str(exc))
        raise
    store_tokens(account, tokens, refreshed=True)
    db.session.commit()  # the rotated refresh token is saved before the lock is released
    log.info("OAuth2 access token of account %s refreshed (expires %s)", account.name, tokens.expires_at)
    return tokens.access_token


def _needs_authorization(account: MailAccount, reason: str, refresh_token_dead: bool = False) -> AuthorizationNeeded:
    """Mark the account (commits) and return the error to raise."""
    account.oauth_status = OAuthStatus.AUTHORIZATION_NEEDED.value
    account.oauth_error = reason[:2000]
    if refresh_token_dead:  # keep no useless secrets
        db.session.execute(delete(OAuthRefreshToken).where(OAuthRefreshToken.account_id == account.id))
    db.session.execute(delete(OAuthAccessToken).where(OAuthAccessToken.account_id == account.id))
    db.session.commit()
    log.warning("OAuth2 account %s needs authorization: %s", account.name, reason)
    how = {
        OAuthGrant.CLIENT_CREDENTIALS.value: "fix the provider's client ID, secret or tenant, or the app's permissions",
        OAuthGrant.DEVICE_CODE.value: f"authorize it again with `intake oauth device-login {account.name}`",
    }.get(account.oauth_grant, "authorize it again (OAuth providers → the account → Authorize, in the web app)")
    return AuthorizationNeeded(f"account {account.name} needs OAuth2 authorization: {reason}; {how}")


def _record_error(account: MailAccount, message: str) -> None:
    account.oauth_error = message[:2000]
    db.session.commit()
