"""OAuth2 errors. Each message is one sentence that says what to fix."""
from __future__ import annotations

from ..errors import IntakeError, NotFound, ValidationError


class OAuthError(IntakeError):
    """Anything about OAuth2 that stops an account from getting a usable access token."""


class ProviderConfigError(ValidationError):
    """A provider configuration was refused (missing endpoint, unknown kind, bad tenant…)."""


class ProviderNotFound(NotFound):
    """No provider configuration of that name."""


class AuthorizationNeeded(OAuthError):
    """The account has no usable tokens: an administrator must authorize it (again)."""


class ProviderRefused(OAuthError):
    """The provider's token endpoint answered with an OAuth2 error (invalid_grant, invalid_client…)."""

    def __init__(self, error: str, description: str | None = None, message: str | None = None):
        self.error = error
        self.description = description or ""
        super().__init__(message or self.summary)

    @property
    def summary(self) -> str:
        return f"{self.error}: {self.description}" if self.description else self.error


class ProviderUnavailable(OAuthError):
    """The provider could not be reached or answered with a server error (temporary)."""


class AuthorizationPending(OAuthError):
    """Device grant: the user has not finished signing in yet (keep polling)."""

    def __init__(self, slow_down: bool = False):
        self.slow_down = slow_down
        super().__init__("the user has not finished signing in yet")
