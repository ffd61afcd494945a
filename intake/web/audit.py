"""The audit log: recording who changed which setting, and the administrators' page that lists it."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import AuditEntry
from .pages import keyset_page
from .security import admin_required, client_ip

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

SECRET = "changed"  # what the log shows for a secret field instead of its values
PAGE_SIZE = 50


def _plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return getattr(value, "name", None) or str(value)


def diff(before: dict, after: dict, secrets: set[str] = frozenset()) -> dict:
    """{field: [old, new]} for fields whose value differs; secret fields only as "changed"."""
    changes = {}
    for field in after:
        old, new = _plain(before.get(field)), _plain(after.get(field))
        if old != new:
            changes[field] = SECRET if field in secrets else [old, new]
    return changes


def record(action: str, target_type: str, target_id: int | None, target: str, changes: dict | None = None) -> None:
    """Add an entry to the session (committed with the change it describes)."""
    user = current_user if current_user and current_user.is_authenticated else None
    db.session.add(AuditEntry(
        user_id=user.id if user else None, actor=user.email if user else "", action=action,
        target_type=target_type, target_id=target_id, target=(target or "")[:500],
        changes=changes or {}, ip=client_ip(),
    ))


@bp.get("/")
@admin_required
def index():
    query = select(AuditEntry)
    if target_type := request.args.get("type"):
        query = query.where(AuditEntry.target_type == target_type)
    page = keyset_page(query, AuditEntry.at, AuditEntry.id, size=PAGE_SIZE)
    types = db.session.scalars(select(AuditEntry.target_type).distinct().order_by(AuditEntry.target_type))
    return render_template("admin/audit.html", page=page, types=list(types), current_type=target_type)
