"""What collection remembers: collected messages (dedup keys), runs, locks, failed mail."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert_sentinel, JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._common import utcnow
from .ticket import Article, RawMessage


class CollectedMessage(db.Model):
    """One message taken from one account. Its keys make a second collection a no-op.

    ``server_key`` is the transport's stable key (IMAP ``uid:UIDVALIDITY:UID``, POP3
    ``uidl:UIDL``); ``sha256`` of the raw bytes catches a server that renumbers.
    """

    __tablename__ = "collected_messages"
    __table_args__ = (
        UniqueConstraint("account_id", "server_key", name="uq_collected_account_key"),
        Index("ix_collected_account_sha", "account_id", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    _sentinel = insert_sentinel("_sentinel")  # lets one INSERT … RETURNING add a whole batch (see ingest)
    account_id: Mapped[int] = mapped_column(ForeignKey("mail_accounts.id", ondelete="CASCADE"))
    server_key: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(998))
    sha256: Mapped[str] = mapped_column(String(64))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    failed_id: Mapped[int | None] = mapped_column(ForeignKey("failed_messages.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(20))  # new-ticket, follow-up, ignored, failed, duplicate
    collected_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped["Article | None"] = relationship()
    failed: Mapped["FailedMessage | None"] = relationship()


class CollectionRun(db.Model):
    __tablename__ = "collection_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("mail_accounts.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(20))  # schedule, manual, cli
    status: Mapped[str] = mapped_column(String(20), default="running")  # running, ok, error, partial
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    listed: Mapped[int] = mapped_column(default=0)  # messages on the server
    fetched: Mapped[int] = mapped_column(default=0)  # downloaded this run
    stored: Mapped[int] = mapped_column(default=0)  # became a ticket or follow-up
    duplicates: Mapped[int] = mapped_column(default=0)
    too_large: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    removed: Mapped[int] = mapped_column(default=0)  # deleted on the server after commit
    error: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[list] = mapped_column(JSON, default=list)  # visible per-message problems


class AccountLock(db.Model):
    """The database-backed per-account lock (used when there is no Redis)."""

    __tablename__ = "account_locks"

    account_id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]


class FailedMessage(db.Model):
    """A message whose processing raised: kept raw with its error, to reprocess or delete."""

    __tablename__ = "failed_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("mail_accounts.id", ondelete="SET NULL"))
    raw_id: Mapped[int] = mapped_column(ForeignKey("raw_messages.id"))
    server_key: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reprocessed_at: Mapped[datetime | None]

    raw: Mapped[RawMessage] = relationship()
