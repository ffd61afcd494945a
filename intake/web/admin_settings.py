"""Administrators: queues, and the system addresses that dispatch mail into them."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ..extensions import db
from ..models import MailAccount, Queue, SystemAddress, Ticket
from . import audit
from .security import admin_required

bp = Blueprint("admin_settings", __name__, url_prefix="/admin")


def _queue(queue_id: int) -> Queue:
    queue = db.session.get(Queue, queue_id)
    if queue is None:
        abort(404)
    return queue


def _queue_name(raw: str, current: Queue | None = None) -> str | None:
    name = (raw or "").strip()
    if not name:
        flash("A queue needs a name.", "error")
        return None
    if len(name) > 200:
        flash("A queue name has at most 200 characters.", "error")
        return None
    clash = db.session.scalar(select(Queue).where(Queue.name == name))
    if clash is not None and clash is not current:
        flash(f"A queue named {name} exists already.", "error")
        return None
    return name


@bp.get("/queues")
@admin_required
def queues():
    queues = list(db.session.scalars(select(Queue).order_by(Queue.name)))
    active = dict(db.session.execute(select(Ticket.queue_id, func.count()).where(
        Ticket.state.in_(("new", "open", "pending"))).group_by(Ticket.queue_id)).all())
    addresses = dict(db.session.execute(select(SystemAddress.queue_id, func.count()).group_by(
        SystemAddress.queue_id)).all())
    return render_template("admin/queues.html", queues=queues, active=active, addresses=addresses,
                           default_queue=current_app.config["DEFAULT_QUEUE"])


@bp.post("/queues")
@admin_required
def add_queue():
    name = _queue_name(request.form.get("name", ""))
    if name:
        queue = Queue(name=name, comment=request.form.get("comment", "").strip())
        db.session.add(queue)
        db.session.flush()
        audit.record("queue.create", "queue", queue.id, name, {"name": [None, name]})
        db.session.commit()
        flash(f"Queue {name} added.", "success")
    return redirect(url_for(".queues"))


@bp.post("/queues/<int:queue_id>")
@admin_required
def edit_queue(queue_id: int):
    queue = _queue(queue_id)
    name = _queue_name(request.form.get("name", ""), queue)
    if name is None:
        return redirect(url_for(".queues"))
    if queue.name == current_app.config["DEFAULT_QUEUE"] and name != queue.name:
        flash("The default queue cannot be renamed (INTAKE_DEFAULT_QUEUE names it).", "error")
        return redirect(url_for(".queues"))
    before = {"name": queue.name, "comment": queue.comment}
    queue.name, queue.comment = name, request.form.get("comment", "").strip()
    changes = audit.diff(before, {"name": queue.name, "comment": queue.comment})
    if changes:
        audit.record("queue.update", "queue", queue.id, queue.name, changes)
    db.session.commit()
    flash(f"Queue {queue.name} saved.", "success")
    return redirect(url_for(".queues"))


@bp.post("/queues/<int:queue_id>/delete")
@admin_required
def delete_queue(queue_id: int):
    queue = _queue(queue_id)
    tickets = db.session.scalar(select(func.count()).select_from(Ticket).where(Ticket.queue_id == queue.id))
    accounts = db.session.scalar(select(func.count()).select_from(MailAccount).where(MailAccount.queue_id == queue.id))
    if queue.name == current_app.config["DEFAULT_QUEUE"]:
        flash("The default queue cannot be deleted.", "error")
    elif tickets or accounts:
        flash(f"Queue {queue.name} still has {tickets} tickets and {accounts} mail accounts; move them first.", "error")
    else:
        audit.record("queue.delete", "queue", queue.id, queue.name)
        db.session.delete(queue)
        db.session.commit()
        flash(f"Queue {queue.name} deleted.", "success")
    return redirect(url_for(".queues"))


# --- system addresses ---
@bp.get("/addresses")
@admin_required
def addresses():
    rows = list(db.session.scalars(select(SystemAddress).order_by(SystemAddress.email)))
    queues = list(db.session.scalars(select(Queue).order_by(Queue.name)))
    return render_template("admin/addresses.html", addresses=rows, queues=queues)


@bp.post("/addresses")
@admin_required
def save_address():
    email = request.form.get("email", "").strip().lower()
    queue = db.session.get(Queue, request.form.get("queue", type=int) or 0)
    if "@" not in email or len(email) > 320:
        flash(f"{email or 'That'} is not an e-mail address.", "error")
    elif queue is None:
        flash("Choose the queue this address dispatches to.", "error")
    else:
        existing = db.session.scalar(select(SystemAddress).where(SystemAddress.email == email))
        if existing is None:
            existing = SystemAddress(email=email, queue=queue, comment=request.form.get("comment", "").strip())
            db.session.add(existing)
            db.session.flush()
            audit.record("address.create", "address", existing.id, email, {"queue": [None, queue.name]})
        elif existing.queue_id != queue.id:
            audit.record("address.update", "address", existing.id, email, {"queue": [existing.queue.name, queue.name]})
            existing.queue = queue
        db.session.commit()
        flash(f"{email} → {queue.name}", "success")
    return redirect(url_for(".addresses"))


@bp.post("/addresses/<int:address_id>/delete")
@admin_required
def delete_address(address_id: int):
    address = db.session.get(SystemAddress, address_id)
    if address is None:
        abort(404)
    audit.record("address.delete", "address", address.id, address.email, {"queue": [address.queue.name, None]})
    db.session.delete(address)
    db.session.commit()
    flash(f"{address.email} removed.", "success")
    return redirect(url_for(".addresses"))
