"""Mail accounts: where mail is collected from, how, and where it goes."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedText
from ..extensions import db
from ._common import utcnow
from .queue import Queue


class Validity(str, enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    INVALID_TEMPORARILY = "invalid-temporarily"


class Dispatch(str, enum.Enum):
    BY_ADDRESS = "to"  # by recipient address, else the default queue
    FIXED_QUEUE = "queue"  # always the account's queue


class AuthMethod(str, enum.Enum):
    PASSWORD = "password"
    OAUTH2 = "oauth2"


#: Defaults of a new account (documented in docs/accounts.md).
DEFAULT_INTERVAL_SECONDS = 600
DEFAULT_CONNECT_TIMEOUT = 30
DEFAULT_READ_TIMEOUT = 120
DEFAULT_MAX_MESSAGES_PER_RUN = 1000
DEFAULT_MAX_MESSAGE_SIZE = 50 * 1024 * 1024


class MailAccount(db.Model):
    __tablename__ = "mail_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str] = mapped_column(String(320), default="")
    protocol: Mapped[str] = mapped_column(String(50))  # a transport plugin name
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int | None]  # None: the protocol's default port
    username: Mapped[str] = mapped_column(String(320))
    auth_method: Mapped[str] = mapped_column(String(20), default=AuthMethod.PASSWORD.value)
    password: Mapped[str | None] = mapped_column(EncryptedText(2000))
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    verify_tls: Mapped[bool] = mapped_column(default=True)
    ca_file: Mapped[str | None] = mapped_column(String(1000))
    connect_timeout: Mapped[int] = mapped_column(default=DEFAULT_CONNECT_TIMEOUT)
    read_timeout: Mapped[int] = mapped_column(default=DEFAULT_READ_TIMEOUT)
    trusted: Mapped[bool] = mapped_column(default=False)
    dispatch: Mapped[str] = mapped_column(String(10), default=Dispatch.BY_ADDRESS.value)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="SET NULL"))
    validity: Mapped[str] = mapped_column(String(30), default=Validity.VALID.value)
    enabled: Mapped[bool] = mapped_column(default=True)
    interval_seconds: Mapped[int] = mapped_column(default=DEFAULT_INTERVAL_SECONDS)
    keep_on_server: Mapped[bool] = mapped_column(default=False)
    max_messages_per_run: Mapped[int] = mapped_column(default=DEFAULT_MAX_MESSAGES_PER_RUN)
    max_message_size: Mapped[int] = mapped_column(default=DEFAULT_MAX_MESSAGE_SIZE)
    worker_queue: Mapped[str | None] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text, default="")

    # OAuth2 (auth_method "oauth2"): which provider, which grant, which SASL mechanism, and
    # whether the account is authorized. The tokens live in oauth_access_tokens/oauth_refresh_tokens.
    oauth_provider_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_providers.id"))
    oauth_grant: Mapped[str | None] = mapped_column(String(30))
    sasl_mechanism: Mapped[str] = mapped_column(String(20), default="XOAUTH2", server_default="XOAUTH2")
    oauth_status: Mapped[str | None] = mapped_column(String(30))  # models.oauth.OAuthStatus
    oauth_error: Mapped[str | None] = mapped_column(Text)  # the provider's last error, shown to admins

    # Collection state, written by the scheduler and the collection run.
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    next_run_at: Mapped[datetime | None]
    pending_since: Mapped[datetime | None]  # set when a run is enqueued, cleared when it ends
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    messages_collected: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    queue: Mapped[Queue | None] = relationship()
    oauth_provider: Mapped["OAuthProviderConfig | None"] = relationship()  # noqa: F821 - models/oauth.py

    def __repr__(self) -> str:  # never includes secrets
        return f"<MailAccount {self.id} {self.name} {self.protocol}://{self.host}>"
