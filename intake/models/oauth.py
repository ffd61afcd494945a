"""OAuth2: provider configurations, the tokens of each account (encrypted), the refresh lock."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import EncryptedText
from ..extensions import db
from ._common import utcnow


class OAuthStatus(str, enum.Enum):
    """Where an OAuth2 account stands (``mail_accounts.oauth_status``)."""

    NOT_AUTHORIZED = "not-authorized"  # no tokens yet, or they were cleared
    AUTHORIZED = "authorized"
    AUTHORIZATION_NEEDED = "authorization-needed"  # a refresh failed: an administrator must authorize again


class OAuthGrant(str, enum.Enum):
    AUTHORIZATION_CODE = "authorization_code"
    DEVICE_CODE = "device_code"
    CLIENT_CREDENTIALS = "client_credentials"


class SaslMechanism(str, enum.Enum):
    XOAUTH2 = "XOAUTH2"
    OAUTHBEARER = "OAUTHBEARER"


class OAuthProviderConfig(db.Model):
    """A provider an administrator registered: which plugin, which app registration, which endpoints."""

    __tablename__ = "oauth_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(50))  # a provider plugin name: microsoft, google, generic…
    client_id: Mapped[str] = mapped_column(String(500))
    client_secret: Mapped[str | None] = mapped_column(EncryptedText(4000))
    client_secret_expires_at: Mapped[datetime | None]  # when the provider will stop accepting it
    tenant: Mapped[str | None] = mapped_column(String(200))
    authority: Mapped[str | None] = mapped_column(String(1000))
    authorize_url: Mapped[str | None] = mapped_column(String(1000))
    token_url: Mapped[str | None] = mapped_column(String(1000))
    device_url: Mapped[str | None] = mapped_column(String(1000))
    discovery_url: Mapped[str | None] = mapped_column(String(1000))
    scopes: Mapped[str] = mapped_column(Text, default="")  # space-separated; empty: the plugin's defaults
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:  # never includes the secret
        return f"<OAuthProviderConfig {self.id} {self.name} {self.kind}>"


class OAuthAccessToken(db.Model):
    """The current access token of an account (at most one)."""

    __tablename__ = "oauth_access_tokens"

    account_id: Mapped[int] = mapped_column(ForeignKey("mail_accounts.id", ondelete="CASCADE"), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("oauth_providers.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(EncryptedText())
    token_type: Mapped[str] = mapped_column(String(40), default="Bearer")
    scope: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None]
    obtained_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<OAuthAccessToken account={self.account_id} expires={self.expires_at}>"


class OAuthRefreshToken(db.Model):
    """The current refresh token of an account (client credentials have none)."""

    __tablename__ = "oauth_refresh_tokens"

    account_id: Mapped[int] = mapped_column(ForeignKey("mail_accounts.id", ondelete="CASCADE"), primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("oauth_providers.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(EncryptedText())
    expires_at: Mapped[datetime | None]  # said by the provider, or estimated from its policy
    obtained_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_refresh_at: Mapped[datetime | None]
    refresh_count: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<OAuthRefreshToken account={self.account_id} expires={self.expires_at}>"


class OAuthRefreshLock(db.Model):
    """The database-backed refresh lock of an account (used when there is no Redis)."""

    __tablename__ = "oauth_refresh_locks"

    account_id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]
