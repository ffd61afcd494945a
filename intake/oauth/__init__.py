"""OAuth2 for mail accounts: provider plugins, the three grants, and the token lifecycle.

Modules: ``providers`` (plugin contract + registry), ``config`` (provider
configurations, redirect URI), ``client`` (HTTP to the provider through authlib),
``authorize`` (authorization code + PKCE, device grant), ``tokens`` (fresh access
tokens, refresh under ``locks``), ``status`` (what `intake oauth status` shows).
The core calls :func:`credentials_for`; the transports only ever see an access token.
"""
from __future__ import annotations

from .errors import (AuthorizationNeeded, OAuthError, ProviderConfigError, ProviderNotFound, ProviderRefused,
                     ProviderUnavailable)
from .tokens import clear_tokens, credentials_for, store_tokens

__all__ = [
    "AuthorizationNeeded", "OAuthError", "ProviderConfigError", "ProviderNotFound", "ProviderRefused",
    "ProviderUnavailable", "clear_tokens", "credentials_for", "store_tokens",
]
