"""Queues and the system addresses that dispatch mail into them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._common import utcnow


class Queue(db.Model):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    addresses: Mapped[list["SystemAddress"]] = relationship(back_populates="queue", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Queue {self.name}>"


class SystemAddress(db.Model):
    """An address of ours: mail sent to it lands in its queue (dispatch by `to`)."""

    __tablename__ = "system_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    comment: Mapped[str] = mapped_column(Text, default="")

    queue: Mapped[Queue] = relationship(back_populates="addresses")
