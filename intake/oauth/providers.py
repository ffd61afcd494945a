"""The OAuth2 provider plugin contract and its registry (entry points).

A provider plugin knows one kind of authorization server: its default endpoints,
the scopes mail access needs per use (IMAP, POP3, SMTP) and grant, extra
parameters of its authorization request, and which claims name the mailbox. It
never talks to the database; what an administrator configured reaches it as
:class:`ProviderSettings`. A third party implements :class:`OAuthProvider` in its own
distribution and registers it under the entry-point group ``intake.oauth_providers``;
the entry-point name is the ``kind`` a provider configuration stores.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import ClassVar

from ..registry import EntryPointRegistry

from .errors import ProviderConfigError

ENTRY_POINT_GROUP = "intake.oauth_providers"

#: What an access token is used for; a plugin gives default scopes for each.
USES = ("imap", "pop3", "smtp")

AUTHORIZATION_CODE = "authorization_code"
DEVICE_CODE = "device_code"
CLIENT_CREDENTIALS = "client_credentials"
GRANTS = (AUTHORIZATION_CODE, DEVICE_CODE, CLIENT_CREDENTIALS)

#: Claims that name the signed-in mailbox, in order of preference.
USERNAME_CLAIMS = ("email", "preferred_username", "upn", "unique_name")


@dataclass(frozen=True)
class Endpoints:
    authorize: str | None = None
    token: str | None = None
    device: str | None = None


@dataclass(frozen=True)
class ProviderSettings:
    """A provider configuration as the administrator entered it (no secrets)."""

    name: str
    kind: str
    client_id: str
    tenant: str | None = None
    authority: str | None = None  # base URL of the identity platform (national clouds, tests)
    authorize_url: str | None = None
    token_url: str | None = None
    device_url: str | None = None
    discovery_url: str | None = None
    scopes: tuple[str, ...] = ()  # empty: the plugin's defaults

    @property
    def explicit_endpoints(self) -> Endpoints:
        return Endpoints(self.authorize_url, self.token_url, self.device_url)


class OAuthProvider(abc.ABC):
    #: the entry-point name
    name: ClassVar[str]
    #: shown to administrators
    label: ClassVar[str]
    #: grants this kind of provider supports for mail access
    grants: ClassVar[tuple[str, ...]] = GRANTS
    #: how the client authenticates at the token endpoint (authlib's names)
    token_auth_method: ClassVar[str] = "client_secret_post"
    #: how long an unused refresh token lives when the token response does not say (None: unknown)
    refresh_token_lifetime: ClassVar[timedelta | None] = None

    def __init__(self, settings: ProviderSettings):
        self.settings = settings

    # -- what a plugin must say --
    @abc.abstractmethod
    def default_endpoints(self) -> Endpoints:
        """The provider's endpoints when the administrator gave none explicitly."""

    @abc.abstractmethod
    def default_scopes(self, use: str, grant: str) -> list[str]:
        """Scopes that give mail access for ``use`` (imap, pop3, smtp) with ``grant``."""

    # -- what a plugin may refine --
    def validate(self) -> None:
        """Refuse settings this provider cannot work with (raise ProviderConfigError)."""

    def authorization_params(self) -> dict[str, str]:
        """Extra parameters of the authorization request (e.g. to be given a refresh token)."""
        return {}

    def username_from_claims(self, claims: dict) -> str | None:
        """The mailbox the user signed in as, from ID-token (or access-token) claims."""
        for claim in USERNAME_CLAIMS:
            value = claims.get(claim)
            if isinstance(value, str) and "@" in value:
                return value
        return None

    # -- used by the core --
    def endpoints(self) -> Endpoints:
        """Explicit endpoints win over the plugin's defaults, one by one."""
        explicit = self.settings.explicit_endpoints
        if explicit.authorize and explicit.token and explicit.device:
            return explicit
        defaults = self.default_endpoints()
        return Endpoints(explicit.authorize or defaults.authorize, explicit.token or defaults.token,
                         explicit.device or defaults.device)

    def endpoint(self, which: str, grant: str) -> str:
        url = getattr(self.endpoints(), which)
        if not url:
            option = {"authorize": "--authorize-url", "token": "--token-url", "device": "--device-url"}[which]
            raise ProviderConfigError(
                f"provider {self.settings.name} has no {which} endpoint, which the {grant} grant needs; "
                f"set it with `intake oauth providers add {self.settings.name} … {option} URL` or a --discovery-url"
            )
        return url

    def scopes(self, use: str, grant: str) -> list[str]:
        if self.settings.scopes:
            return list(self.settings.scopes)
        return self.default_scopes(use, grant)

    def check_grant(self, grant: str) -> None:
        if grant not in GRANTS:
            raise ProviderConfigError(f"grant must be one of {', '.join(GRANTS)}, not {grant!r}")
        if grant not in self.grants:
            raise ProviderConfigError(
                f"{self.label} does not offer the {grant} grant for mail access; use one of: {', '.join(self.grants)}"
            )


def use_of(protocol: str) -> str:
    """Which scope set a transport protocol needs (pop3s → pop3, imaptls → imap)."""
    for use in USES:
        if protocol.startswith(use):
            return use
    return "imap"


def with_scopes(settings: ProviderSettings, scopes: str | None) -> ProviderSettings:
    return replace(settings, scopes=tuple((scopes or "").split()))


# --- registry ---
_registry = EntryPointRegistry(ENTRY_POINT_GROUP, OAuthProvider, ProviderConfigError, "OAuth2 provider plugin of kind")
available_providers = _registry.all
reset_registry = _registry.reset
provider_class = _registry.get



def make_provider(settings: ProviderSettings) -> OAuthProvider:
    return provider_class(settings.kind)(settings)
