"""Who changed which setting when (the audit log), and failed logins (login throttling).

An audit entry names the actor, the action (``account.update``), the target and the
changed fields as ``{field: [old, new]}``. Secret fields are recorded only as
``"changed"``: their values never reach this table.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._common import utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320), default="")  # the e-mail address, kept if the user goes
    action: Mapped[str] = mapped_column(String(50))  # account.create, account.update, user.delete, …
    target_type: Mapped[str] = mapped_column(String(50))
    target_id: Mapped[int | None]
    target: Mapped[str] = mapped_column(String(500), default="")  # a readable name of the target
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> [old, new] or "changed"
    ip: Mapped[str] = mapped_column(String(64), default="")


class LoginFailure(db.Model):
    """One failed login; recent ones per address and per client IP throttle further attempts."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
