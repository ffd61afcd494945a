"""Talking to a provider's endpoints (authlib's OAuth2 client): the three grants and refresh.

Pure protocol: no database, no Flask. Every function takes the provider plugin and the
client secret, and returns a :class:`TokenSet` or raises ProviderRefused (an OAuth2
error answer) / ProviderUnavailable (network trouble, server errors).
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError as AuthlibOAuthError
from authlib.integrations.requests_client import OAuth2Session

from ..models import utcnow
from .errors import AuthorizationPending, ProviderRefused, ProviderUnavailable
from .providers import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, DEVICE_CODE, OAuthProvider

HTTP_TIMEOUT_SECONDS = 30
#: RFC 7636: 43-128 characters; 64 random URL-safe characters.
PKCE_VERIFIER_LENGTH = 64
STATE_LENGTH = 32
DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
#: RFC 8628 §3.2: the polling interval when the provider names none.
DEFAULT_DEVICE_INTERVAL_SECONDS = 5


@dataclass
class TokenSet:
    """What a token endpoint returned, with times made absolute."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    token_type: str = "Bearer"
    scope: str = ""
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    claims: dict = field(default_factory=dict)  # of the ID token (or a JWT access token)


@dataclass(frozen=True)
class DeviceAuthorization:
    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_at: datetime
    interval: int


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str = field(repr=False)


def _session(provider: OAuthProvider, client_secret: str | None, scopes: list[str] | None = None,
             redirect_uri: str | None = None) -> OAuth2Session:
    method = provider.token_auth_method if client_secret else "none"
    return OAuth2Session(client_id=provider.settings.client_id, client_secret=client_secret,
                         token_endpoint_auth_method=method, scope=" ".join(scopes) if scopes else None,
                         redirect_uri=redirect_uri, code_challenge_method="S256")


def _call(what: str, provider: OAuthProvider, request):
    """Run one request to the provider, turning its failures into our two error types.

    ``what`` names the request as a noun phrase ("a token refresh")."""
    try:
        return request()
    except AuthlibOAuthError as exc:
        raise ProviderRefused(exc.error or "error", exc.description,
                              message=f"provider {provider.settings.name} refused {what}: "
                                      f"{exc.error}{': ' + exc.description if exc.description else ''}") from None
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"provider {provider.settings.name} could not be reached for {what} "
                                  f"({type(exc).__name__}: {_first_line(exc)}); try again later") from None


def authorization_request(provider: OAuthProvider, client_secret: str | None, redirect_uri: str,
                          scopes: list[str]) -> AuthorizationRequest:
    """The URL that sends the user to the provider, with a fresh state and PKCE verifier."""
    verifier, state = generate_token(PKCE_VERIFIER_LENGTH), generate_token(STATE_LENGTH)
    endpoint = provider.endpoint("authorize", AUTHORIZATION_CODE)
    with _session(provider, client_secret, scopes, redirect_uri) as client:
        url, _ = client.create_authorization_url(endpoint, state=state, code_verifier=verifier,
                                                 **provider.authorization_params())
    return AuthorizationRequest(url=url, state=state, code_verifier=verifier)


def exchange_code(provider: OAuthProvider, client_secret: str | None, redirect_uri: str, code: str,
                  code_verifier: str) -> TokenSet:
    url = provider.endpoint("token", AUTHORIZATION_CODE)
    with _session(provider, client_secret, redirect_uri=redirect_uri) as client:
        token = _call("the authorization-code exchange", provider, lambda: client.fetch_token(
            url, grant_type="authorization_code", code=code, code_verifier=code_verifier,
            redirect_uri=redirect_uri, timeout=HTTP_TIMEOUT_SECONDS))
    return _token_set(provider, token)


def client_credentials(provider: OAuthProvider, client_secret: str | None, scopes: list[str]) -> TokenSet:
    url = provider.endpoint("token", CLIENT_CREDENTIALS)
    with _session(provider, client_secret, scopes) as client:
        token = _call("a client-credentials token", provider, lambda: client.fetch_token(
            url, grant_type="client_credentials", timeout=HTTP_TIMEOUT_SECONDS))
    return _token_set(provider, token)


def refresh(provider: OAuthProvider, client_secret: str | None, refresh_token: str, scopes: list[str],
            grant: str) -> TokenSet:
    url = provider.endpoint("token", grant)
    with _session(provider, client_secret, scopes) as client:
        token = _call("a token refresh", provider, lambda: client.refresh_token(
            url, refresh_token=refresh_token, timeout=HTTP_TIMEOUT_SECONDS))
    result = _token_set(provider, token)
    if result.refresh_token == refresh_token:
        result.refresh_token = None  # not rotated: authlib copied the old one in
    return result


def start_device_authorization(provider: OAuthProvider, client_secret: str | None,
                               scopes: list[str]) -> DeviceAuthorization:
    """RFC 8628 §3.1: ask for a device code and a user code."""
    url = provider.endpoint("device", DEVICE_CODE)
    body = {"client_id": provider.settings.client_id, "scope": " ".join(scopes)}

    def post(client):
        auth = client.client_auth(client.token_endpoint_auth_method)
        response = client.post(url, data=body, auth=auth, timeout=HTTP_TIMEOUT_SECONDS,
                               headers={"Accept": "application/json"})
        data = _json_object(response)
        if "error" in data:
            raise AuthlibOAuthError(error=data["error"], description=data.get("error_description"))
        response.raise_for_status()
        return data

    with _session(provider, client_secret, scopes) as client:
        data = _call("a device code", provider, lambda: post(client))
    return DeviceAuthorization(
        device_code=data["device_code"], user_code=data["user_code"],
        verification_uri=data.get("verification_uri") or data.get("verification_url", ""),
        verification_uri_complete=data.get("verification_uri_complete"),
        expires_at=utcnow() + timedelta(seconds=int(data.get("expires_in", 900))),
        interval=int(data.get("interval") or DEFAULT_DEVICE_INTERVAL_SECONDS),
    )


def poll_device_token(provider: OAuthProvider, client_secret: str | None, device_code: str) -> TokenSet:
    """RFC 8628 §3.4: one poll. Raises AuthorizationPending while the user has not finished."""
    url = provider.endpoint("token", DEVICE_CODE)
    try:
        with _session(provider, client_secret) as client:
            token = _call("the device-code token", provider, lambda: client.fetch_token(
                url, grant_type=DEVICE_GRANT_TYPE, device_code=device_code, client_id=provider.settings.client_id,
                timeout=HTTP_TIMEOUT_SECONDS))
    except ProviderRefused as exc:
        if exc.error in ("authorization_pending", "slow_down"):
            raise AuthorizationPending(slow_down=exc.error == "slow_down") from None
        raise
    return _token_set(provider, token)


# --- reading token responses ---
def _token_set(provider: OAuthProvider, token: dict) -> TokenSet:
    if not token.get("access_token"):
        raise ProviderUnavailable(f"provider {provider.settings.name} answered without an access token")
    now = utcnow()
    expires_in = _number(token.get("expires_in"))
    refresh_in = _number(token.get("refresh_token_expires_in") or token.get("refresh_expires_in"))
    refresh_token = token.get("refresh_token")
    refresh_expires_at = now + timedelta(seconds=refresh_in) if refresh_in else None
    if refresh_token and refresh_expires_at is None and provider.refresh_token_lifetime:
        refresh_expires_at = now + provider.refresh_token_lifetime
    claims = jwt_claims(token.get("id_token")) or jwt_claims(token["access_token"])
    return TokenSet(access_token=token["access_token"], refresh_token=refresh_token,
                    token_type=token.get("token_type") or "Bearer", scope=token.get("scope") or "",
                    expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
                    refresh_expires_at=refresh_expires_at, claims=claims)


def jwt_claims(token: str | None) -> dict:
    """The claims of a JWT without checking its signature: it came straight from the token
    endpoint over the connection we opened (OpenID Connect Core §3.1.3.7), and only names the mailbox."""
    if not token or token.count(".") != 2:
        return {}
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _number(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _json_object(response: requests.Response) -> dict:
    if response.status_code >= 500:
        response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError(f"the answer is not a JSON object (HTTP {response.status_code})")
    return data


def _first_line(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text[:200]
