"""The scheduler tick: enqueue every due, enabled, valid account once.

An account is claimed by setting ``pending_since`` with a conditional UPDATE, so two
schedulers (or a tick racing a "Fetch now") never enqueue it twice; the job clears
the claim when its run ends. A claim older than PENDING_TIMEOUT_SECONDS is taken to
belong to a dead worker and may be claimed again.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from . import jobs
from .extensions import db
from .models import MailAccount, Validity, utcnow


def _claimable(now):
    cutoff = now - timedelta(seconds=int(current_app.config["PENDING_TIMEOUT_SECONDS"]))
    return or_(MailAccount.pending_since.is_(None), MailAccount.pending_since < cutoff)


def due_account_ids(now=None) -> list[int]:
    now = now or utcnow()
    query = select(MailAccount.id).where(
        MailAccount.enabled.is_(True),
        MailAccount.validity == Validity.VALID.value,
        or_(MailAccount.next_run_at.is_(None), MailAccount.next_run_at <= now),
        _claimable(now),
    ).order_by(MailAccount.next_run_at.is_not(None), MailAccount.next_run_at, MailAccount.id)
    return list(db.session.scalars(query))


def claim(account_id: int, now=None) -> bool:
    now = now or utcnow()
    claimed = db.session.execute(
        update(MailAccount).where(MailAccount.id == account_id, _claimable(now)).values(pending_since=now)
    ).rowcount
    db.session.commit()
    return claimed == 1


def release(account_id: int) -> None:
    db.session.rollback()
    db.session.execute(update(MailAccount).where(MailAccount.id == account_id).values(pending_since=None))
    db.session.commit()


def enqueue_collection(account: MailAccount, trigger: str) -> bool:
    """Claim and enqueue one account now (scheduler tick or "Fetch now"). False if already pending."""
    if not claim(account.id):
        return False
    try:
        jobs.enqueue_collect(account.id, account.worker_queue, trigger)
    except Exception:
        release(account.id)
        raise
    return True


def tick() -> list[int]:
    """Enqueue all due accounts; returns the ids enqueued."""
    db.session.commit()
    enqueued = []
    for account_id in due_account_ids():
        account = db.session.get(MailAccount, account_id)
        if enqueue_collection(account, "schedule"):
            enqueued.append(account_id)
    return enqueued
