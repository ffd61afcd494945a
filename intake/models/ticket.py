"""Tickets, their articles, attachments, and the raw messages they came from."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import insert_sentinel, JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import db
from ._common import utcnow
from .queue import Queue


class TicketState(str, enum.Enum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    CLOSED = "closed"


#: Priorities 1 (very low) .. 5 (very high); 3 is normal.
PRIORITY_NAMES = {1: "very low", 2: "low", 3: "normal", 4: "high", 5: "very high"}
DEFAULT_PRIORITY = 3


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue_updated", "queue_id", "updated_at", "id"),
        # The web ticket list (keyset pagination per sort order and filter; migration 0003_web):
        Index("ix_tickets_updated_id", "updated_at", "id"),
        Index("ix_tickets_state_updated", "state", "updated_at", "id"),
        Index("ix_tickets_priority_updated", "priority", "updated_at", "id"),
        Index("ix_tickets_state_queue", "state", "queue_id"),
        Index("ix_tickets_owner_updated", "owner_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    _sentinel = insert_sentinel("_sentinel")  # lets one INSERT … RETURNING add a whole batch (see ingest)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(1000), default="")
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    state: Mapped[str] = mapped_column(String(20), default=TicketState.NEW.value, index=True)
    priority: Mapped[int] = mapped_column(default=DEFAULT_PRIORITY)
    customer: Mapped[str] = mapped_column(String(320), default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    queue: Mapped[Queue] = relationship()
    articles: Mapped[list["Article"]] = relationship(
        back_populates="ticket", order_by="Article.id", cascade="all, delete-orphan"
    )


class TicketCounter(db.Model):
    """One row per day: the last sequence number handed out that day."""

    __tablename__ = "ticket_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class RawMessage(db.Model):
    """The message exactly as received. Kept apart so lists never load it."""

    __tablename__ = "raw_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    _sentinel = insert_sentinel("_sentinel")  # lets one INSERT … RETURNING add a whole batch (see ingest)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Article(db.Model):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    _sentinel = insert_sentinel("_sentinel")  # lets one INSERT … RETURNING add a whole batch (see ingest)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="email-in")  # email-in, email-out, note
    account_id: Mapped[int | None] = mapped_column(ForeignKey("mail_accounts.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(Text, default="")
    from_address: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(String(500), default="")
    to: Mapped[str] = mapped_column(Text, default="")
    cc: Mapped[str] = mapped_column(Text, default="")
    reply_to: Mapped[str] = mapped_column(Text, default="")
    date: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(998))
    in_reply_to: Mapped[str] = mapped_column(Text, default="")
    references: Mapped[str] = mapped_column(Text, default="")
    body_text: Mapped[str] = deferred(mapped_column(Text, default=""))
    body_html: Mapped[str | None] = deferred(mapped_column(Text))
    flags: Mapped[dict] = mapped_column(JSON, default=dict)  # what routing detected and did
    raw_id: Mapped[int | None] = mapped_column(ForeignKey("raw_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="articles")
    raw: Mapped[RawMessage | None] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="article", order_by="Attachment.id", cascade="all, delete-orphan"
    )


Index("ix_articles_message_id", Article.message_id)


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    _sentinel = insert_sentinel("_sentinel")  # lets one INSERT … RETURNING add a whole batch (see ingest)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(1000))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content_id: Mapped[str | None] = mapped_column(String(998))
    inline: Mapped[bool] = mapped_column(default=False)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))

    article: Mapped[Article] = relationship(back_populates="attachments")
