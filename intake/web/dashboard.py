"""Administrators' dashboard: intake per account over time, errors, and what needs attention."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from ..extensions import db
from ..models import CollectionRun, FailedMessage, MailAccount, Ticket, utcnow
from .security import admin_required

bp = Blueprint("dashboard", __name__, url_prefix="/admin")

DEFAULT_DAYS = 14
MAX_DAYS = 90


def intake_series(days: int) -> dict:
    """Per account and day: messages stored, messages failed, runs that ended in an error."""
    start = (utcnow() - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    dates = [(start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days)]
    index = {day: i for i, day in enumerate(dates)}
    labels = [day[5:] for day in dates]  # MM-DD: short labels that stay horizontal
    names = dict(db.session.execute(select(MailAccount.id, MailAccount.name)).all())
    series: dict[str, dict[str, list[int]]] = {}
    rows = db.session.execute(select(CollectionRun.account_id, CollectionRun.started_at, CollectionRun.stored,
                                     CollectionRun.failed, CollectionRun.status)
                              .where(CollectionRun.started_at >= start))
    for account_id, started_at, stored, failed, status in rows:
        name = names.get(account_id, f"account {account_id}")
        entry = series.setdefault(name, {"stored": [0] * days, "failed": [0] * days, "errors": [0] * days})
        day = index.get(started_at.strftime("%Y-%m-%d"))
        if day is None:
            continue
        entry["stored"][day] += stored or 0
        entry["failed"][day] += failed or 0
        entry["errors"][day] += status == "error"
    return {"labels": labels, "accounts": dict(sorted(series.items()))}


@bp.get("/")
@admin_required
def index():
    days = min(max(request.args.get("days", DEFAULT_DAYS, type=int) or DEFAULT_DAYS, 1), MAX_DAYS)
    since = utcnow() - timedelta(days=1)
    facts = {
        "new_tickets_24h": db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.created_at >= since)),
        "open_tickets": db.session.scalar(select(func.count()).select_from(Ticket)
                                          .where(Ticket.state.in_(("new", "open", "pending")))),
        "failed_mail": db.session.scalar(select(func.count()).select_from(FailedMessage)
                                         .where(FailedMessage.reprocessed_at.is_(None))),
        "accounts": db.session.scalar(select(func.count()).select_from(MailAccount)),
    }
    failing = list(db.session.scalars(select(MailAccount).where(MailAccount.consecutive_failures > 0)
                                      .order_by(MailAccount.consecutive_failures.desc()).limit(10)))
    return render_template("admin/dashboard.html", data=intake_series(days), facts=facts, failing=failing, days=days)
