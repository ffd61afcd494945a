"""Filter rules (managed by administrators) and the per-sender record of automatic answers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._common import utcnow


class FilterRule(db.Model):
    """An ordered rule: conditions on headers/body → actions that set ticket fields, ignore, or stop.

    ``conditions``: ``[{"field": "subject"|"from"|"to"|"cc"|"body"|"header:NAME", "pattern": RE2, "negate": bool}]``
    ``actions``: any of ``queue, priority, state, title, owner, customer, tags (list), ignore (bool)``.
    """

    __tablename__ = "filter_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    position: Mapped[int] = mapped_column(default=0, index=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    match_all: Mapped[bool] = mapped_column(default=True)  # all conditions (else any)
    conditions: Mapped[list] = mapped_column(JSON, default=list)
    actions: Mapped[dict] = mapped_column(JSON, default=dict)
    stop: Mapped[bool] = mapped_column(default=False)  # no further rules after this one fires
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AutoAnswer(db.Model):
    """One automatic answer sent to a sender; counted to cap answers per sender and hour."""

    __tablename__ = "auto_answers"
    __table_args__ = (Index("ix_auto_answers_sender_sent", "sender", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(320))
    ticket_id: Mapped[int | None]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
