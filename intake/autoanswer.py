"""The cap on automatic answers: at most AUTO_ANSWER_LIMIT_PER_HOUR to one sender per hour.

Whatever sends automatic answers (the auto-responder arrives with outbound SMTP) asks
:func:`may_answer` first and records each answer with :func:`record`; machine-made
mail is never answered at all (``Decision.auto_answer`` is False for it).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import AutoAnswer, utcnow


def answers_last_hour(session: Session, sender: str) -> int:
    since = utcnow() - timedelta(hours=1)
    query = select(func.count(AutoAnswer.id)).where(AutoAnswer.sender == sender.lower(), AutoAnswer.sent_at >= since)
    return session.scalar(query) or 0


def may_answer(session: Session, sender: str, limit_per_hour: int) -> bool:
    return bool(sender) and answers_last_hour(session, sender) < limit_per_hour


def record(session: Session, sender: str, ticket_id: int | None = None) -> None:
    session.add(AutoAnswer(sender=sender.lower(), ticket_id=ticket_id))
