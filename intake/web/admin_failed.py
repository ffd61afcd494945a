"""Administrators: failed mail (messages that could not be stored as tickets): view, reprocess, delete."""
from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from sqlalchemy import select, update

from ..extensions import db
from ..ingest import Ingestor
from ..models import Article, CollectedMessage, FailedMessage, MailAccount
from . import audit
from .downloads import download_response
from .pages import keyset_page
from .security import admin_required

bp = Blueprint("admin_failed", __name__, url_prefix="/admin/failed")

PAGE_SIZE = 50
PREVIEW_BYTES = 20_000


def _failed(failed_id: int) -> FailedMessage:
    failed = db.session.get(FailedMessage, failed_id)
    if failed is None:
        abort(404)
    return failed


@bp.get("/")
@admin_required
def index():
    page = keyset_page(select(FailedMessage), FailedMessage.id, size=PAGE_SIZE)
    accounts = {a.id: a.name for a in db.session.scalars(select(MailAccount))}
    return render_template("admin/failed.html", page=page, accounts=accounts)


@bp.get("/<int:failed_id>")
@admin_required
def show(failed_id: int):
    failed = _failed(failed_id)
    data = failed.raw.data or b""
    headers = BytesHeaderParser(policy=default_policy).parsebytes(data[:PREVIEW_BYTES])
    summary = {name: str(headers.get(name, "")) for name in ("From", "To", "Subject", "Date", "Message-ID")}
    preview = data[:PREVIEW_BYTES].decode("utf-8", "replace")
    account = db.session.get(MailAccount, failed.account_id) if failed.account_id else None
    return render_template("admin/failed_show.html", failed=failed, summary=summary, preview=preview,
                           truncated=len(data) > PREVIEW_BYTES, account=account)


@bp.get("/<int:failed_id>/raw")
@admin_required
def raw(failed_id: int):
    failed = _failed(failed_id)
    return download_response(failed.raw.data, f"failed-{failed.id}.eml", "message/rfc822")


def reprocess(failed: FailedMessage):
    """Run the stored message through the pipeline again, with its account's routing facts."""
    account = db.session.get(MailAccount, failed.account_id) if failed.account_id else None
    return Ingestor(db.session, current_app.config, account=account).reprocess(failed)


@bp.post("/<int:failed_id>/reprocess")
@admin_required
def reprocess_one(failed_id: int):
    failed = _failed(failed_id)
    result = reprocess(failed)
    audit.record("failed.reprocess", "failed", failed.id, f"failed mail {failed.id}", {"outcome": [None, result.outcome]})
    db.session.commit()
    if result.outcome == "failed":
        flash(f"Still failing: {failed.error}", "error")
    elif result.ticket_number:
        flash(f"Stored as {result.outcome} in ticket {result.ticket_number}.", "success")
    else:
        flash(f"Processed: {result.outcome}.", "success")
    return redirect(url_for(".show", failed_id=failed.id))


@bp.post("/<int:failed_id>/delete")
@admin_required
def delete(failed_id: int):
    failed = _failed(failed_id)
    raw_row = failed.raw
    audit.record("failed.delete", "failed", failed.id, f"failed mail {failed.id}", {"error": [failed.error[:200], None]})
    db.session.execute(update(CollectedMessage).where(CollectedMessage.failed_id == failed.id).values(failed_id=None))
    db.session.delete(failed)
    db.session.flush()
    if db.session.scalar(select(Article.id).where(Article.raw_id == raw_row.id).limit(1)) is None:
        db.session.delete(raw_row)  # the raw bytes belonged to this failed mail only
    db.session.commit()
    flash(f"Failed mail {failed_id} deleted.", "success")
    return redirect(url_for(".index"))
