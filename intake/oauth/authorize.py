"""Authorizing an account: the authorization-code grant (with PKCE and state, started in the
web app) and the device authorization grant (RFC 8628, from the console).

The client-credentials grant needs no user: its token is fetched on first use by the
token service. Either user grant ends in :func:`_authorized`, which stores the tokens
and takes the account's username from the ID token when the provider names the mailbox.
"""
from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from ..crypto import decrypt, encrypt
from ..extensions import db
from ..models import MailAccount, OAuthGrant, utcnow
from . import client
from .config import plugin_of, redirect_uri
from .errors import AuthorizationNeeded, AuthorizationPending, OAuthError, ProviderConfigError, ProviderRefused
from .providers import use_of
from .tokens import store_tokens

#: How long a started authorization (browser round trip) may take.
AUTHORIZATION_TIMEOUT_SECONDS = 600
#: RFC 8628 §3.5: add this to the interval when the provider says slow_down.
SLOW_DOWN_SECONDS = 5


class AuthorizationFailed(OAuthError):
    """The authorization round trip did not end in tokens (wrong state, timeout, user declined)."""


@dataclass(frozen=True)
class PendingAuthorization:
    """What the callback needs to finish; kept Fernet-encrypted in the admin's session."""

    account_id: int
    state: str
    code_verifier: str
    redirect_uri: str
    started: float

    def seal(self) -> str:
        return encrypt(json.dumps(asdict(self)))

    @classmethod
    def unseal(cls, sealed: str | None) -> "PendingAuthorization":
        if not sealed:
            raise AuthorizationFailed("no authorization was started in this browser session; "
                                      "start again with Authorize on the account")
        return cls(**json.loads(decrypt(sealed)))


def _require_grant(account: MailAccount, grants: tuple[str, ...], what: str) -> None:
    if account.oauth_provider is None or account.oauth_grant not in grants:
        raise ProviderConfigError(
            f"account {account.name} cannot be authorized with {what}: it uses "
            f"{account.oauth_grant or 'no OAuth2 grant'}; set --grant {grants[0]} on the account first"
        )


def start_authorization(account: MailAccount) -> tuple[str, PendingAuthorization]:
    """The provider URL to send the administrator to, and what to keep until the callback."""
    _require_grant(account, (OAuthGrant.AUTHORIZATION_CODE.value,), "the authorization-code grant")
    provider = plugin_of(account.oauth_provider)
    uri = redirect_uri()
    scopes = provider.scopes(use_of(account.protocol), account.oauth_grant)
    request = client.authorization_request(provider, account.oauth_provider.client_secret, uri, scopes)
    pending = PendingAuthorization(account_id=account.id, state=request.state, code_verifier=request.code_verifier,
                                   redirect_uri=uri, started=time.time())
    return request.url, pending


def finish_authorization(pending: PendingAuthorization, args: dict) -> MailAccount:
    """The callback: check state and age, exchange the code, store the tokens (commits)."""
    if not hmac.compare_digest(str(args.get("state", "")), pending.state):
        raise AuthorizationFailed("the answer from the provider does not belong to the authorization started "
                                  "here (state mismatch); start again with Authorize")
    if time.time() - pending.started > AUTHORIZATION_TIMEOUT_SECONDS:
        raise AuthorizationFailed(f"the authorization took longer than {AUTHORIZATION_TIMEOUT_SECONDS // 60} minutes; "
                                  "start again with Authorize")
    account = db.session.get(MailAccount, pending.account_id)
    if account is None:
        raise AuthorizationFailed("the account being authorized no longer exists")
    if args.get("error"):
        description = args.get("error_description") or ""
        raise AuthorizationFailed(f"the provider did not authorize account {account.name}: {args['error']}"
                                  f"{': ' + description if description else ''}")
    if not args.get("code"):
        raise AuthorizationFailed("the provider answered without an authorization code; start again with Authorize")
    provider = plugin_of(account.oauth_provider)
    tokens = client.exchange_code(provider, account.oauth_provider.client_secret, pending.redirect_uri,
                                  args["code"], pending.code_verifier)
    return _authorized(account, tokens)


def device_login(account: MailAccount, show: Callable[[client.DeviceAuthorization], None],
                 sleep: Callable[[float], None] = time.sleep) -> MailAccount:
    """RFC 8628: get a user code, let ``show`` tell the user where to enter it, poll until done (commits)."""
    _require_grant(account, (OAuthGrant.DEVICE_CODE.value,), "the device grant")
    row = account.oauth_provider
    provider, secret = plugin_of(row), row.client_secret
    scopes = provider.scopes(use_of(account.protocol), account.oauth_grant)
    device = client.start_device_authorization(provider, secret, scopes)
    db.session.commit()  # hold no transaction while the user signs in
    show(device)
    interval = device.interval
    while True:
        sleep(interval)
        if utcnow() >= device.expires_at:
            raise AuthorizationFailed(f"the user code {device.user_code} expired before sign-in finished; "
                                      f"run `intake oauth device-login {account.name}` again")
        try:
            tokens = client.poll_device_token(provider, secret, device.device_code)
        except AuthorizationPending as pending:
            interval += SLOW_DOWN_SECONDS if pending.slow_down else 0
            continue
        except ProviderRefused as exc:
            if exc.error in ("access_denied", "expired_token"):
                raise AuthorizationNeeded(f"sign-in for account {account.name} was not completed ({exc.summary}); "
                                          f"run `intake oauth device-login {account.name}` again") from None
            raise
        account = db.session.get(MailAccount, account.id, populate_existing=True)
        return _authorized(account, tokens)


def _authorized(account: MailAccount, tokens: client.TokenSet) -> MailAccount:
    username = plugin_of(account.oauth_provider).username_from_claims(tokens.claims)
    if username:
        account.username = username
        if not account.email:
            account.email = username
    store_tokens(account, tokens)
    db.session.commit()
    return account
