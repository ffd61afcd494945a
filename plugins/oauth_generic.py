"""Any standard OAuth2 provider: endpoints from its discovery document (RFC 8414 /
OpenID Connect Discovery) or given explicitly; scopes given by the administrator."""
from __future__ import annotations

import time

import requests

from intake.oauth.errors import ProviderConfigError, ProviderUnavailable
from intake.oauth.providers import Endpoints, OAuthProvider

DISCOVERY_TIMEOUT_SECONDS = 15
DISCOVERY_CACHE_SECONDS = 3600

_cache: dict[str, tuple[float, Endpoints]] = {}


class Generic(OAuthProvider):
    name = "generic"
    label = "standard OAuth2 provider"
    token_auth_method = "client_secret_basic"  # the one RFC 6749 requires every server to support

    def validate(self) -> None:
        s = self.settings
        if not (s.discovery_url or s.token_url):
            raise ProviderConfigError(
                f"generic provider {s.name} needs a --discovery-url, or explicit endpoints (at least --token-url)"
            )
        if not s.scopes:
            raise ProviderConfigError(f"generic provider {s.name} needs --scopes (the scopes that grant mail access)")

    def default_scopes(self, use: str, grant: str) -> list[str]:
        return []  # validate() insists on configured scopes

    def default_endpoints(self) -> Endpoints:
        url = self.settings.discovery_url
        if not url:
            return Endpoints()
        cached = _cache.get(url)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            response = requests.get(url, timeout=DISCOVERY_TIMEOUT_SECONDS, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(
                f"the discovery document of provider {self.settings.name} cannot be read from {url} ({exc})"
            ) from None
        endpoints = Endpoints(document.get("authorization_endpoint"), document.get("token_endpoint"),
                              document.get("device_authorization_endpoint"))
        _cache[url] = (time.monotonic() + DISCOVERY_CACHE_SECONDS, endpoints)
        return endpoints
