"""One ticket: its articles, their sanitized HTML, attachments and raw source; state/priority/queue/owner; notes."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload, undefer

from ..extensions import db
from ..models import Article, Attachment, Queue, Ticket, User, utcnow
from . import mailhtml
from .downloads import download_response, inline_image_response
from .security import can_see_queue, require_ticket_access
from .ui import STATES

bp = Blueprint("ticket", __name__)

MAX_NOTE_LENGTH = 100_000


def _ticket(number: str) -> Ticket:
    return require_ticket_access(db.session.scalar(select(Ticket).where(Ticket.number == number)))


def _article(article_id: int) -> Article:
    article = db.session.get(Article, article_id)
    if article is None:
        abort(404)
    require_ticket_access(article.ticket)
    return article


def assignable_users(queue_id: int) -> list[User]:
    """Who may own a ticket of this queue: active administrators and agents granted the queue."""
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name, User.email))
    return [u for u in users if u.is_admin or any(q.id == queue_id for q in u.queues)]


@bp.get("/tickets/<number>")
@login_required
def show(number: str):
    ticket = _ticket(number)
    articles = list(db.session.scalars(
        select(Article).where(Article.ticket_id == ticket.id).order_by(Article.id)
        .options(undefer(Article.body_text), undefer(Article.body_html), selectinload(Article.attachments))
    ))
    remote = {a.id: mailhtml.count_remote_images(a.body_html) for a in articles if a.body_html}
    queues = [q for q in db.session.scalars(select(Queue).order_by(Queue.name)) if can_see_queue(current_user, q.id)]
    return render_template("tickets/show.html", ticket=ticket, articles=articles, remote=remote, queues=queues,
                           owners=assignable_users(ticket.queue_id), owner=db.session.get(User, ticket.owner_id)
                           if ticket.owner_id else None)


@bp.post("/tickets/<number>")
@login_required
def update(number: str):
    ticket = _ticket(number)
    form = request.form
    changed = []
    state = form.get("state", ticket.state)
    if state not in STATES:
        abort(400, f"unknown state {state!r}")
    priority = form.get("priority", ticket.priority, type=int)
    if priority not in range(1, 6):
        abort(400, "priority must be 1-5")
    queue_id = form.get("queue", ticket.queue_id, type=int)
    if queue_id != ticket.queue_id:
        if db.session.get(Queue, queue_id) is None:
            abort(400, "unknown queue")
        if not can_see_queue(current_user, queue_id):
            abort(403)
    owner_raw = form.get("owner", str(ticket.owner_id or ""))
    owner_id = int(owner_raw) if owner_raw.isdigit() else None
    if owner_id != ticket.owner_id and owner_id is not None:
        if owner_id not in {u.id for u in assignable_users(queue_id)}:
            abort(400, "that person cannot see the ticket's queue")
    for field, value in (("state", state), ("priority", priority), ("queue_id", queue_id), ("owner_id", owner_id)):
        if getattr(ticket, field) != value:
            setattr(ticket, field, value)
            changed.append(field.removesuffix("_id"))
    if changed:
        ticket.updated_at = utcnow()
        db.session.commit()
        flash(f"Saved: {', '.join(changed)}.", "success")
    if not can_see_queue(current_user, ticket.queue_id):
        return redirect(url_for("tickets.index"))
    return redirect(url_for(".show", number=ticket.number))


@bp.post("/tickets/<number>/notes")
@login_required
def add_note(number: str):
    ticket = _ticket(number)
    text = (request.form.get("text") or "").strip()
    if not text:
        flash("The note is empty.", "error")
        return redirect(url_for(".show", number=number) + "#note")
    now = utcnow()
    db.session.add(Article(
        ticket=ticket, kind="note", subject="Internal note", from_name=current_user.name or current_user.email,
        from_address=current_user.email, body_text=text[:MAX_NOTE_LENGTH], date=now, created_at=now,
        flags={"note_by_user_id": current_user.id},
    ))
    ticket.updated_at = now
    db.session.commit()
    flash("Note added.", "success")
    return redirect(url_for(".show", number=number))


@bp.get("/articles/<int:article_id>/html")
@login_required
def article_html(article_id: int):
    """The article's sanitized HTML as its own document, for a sandboxed iframe (own strict CSP)."""
    article = _article(article_id)
    allow_remote = request.args.get("remote") == "1"
    return mailhtml.frame_response(article, allow_remote)


@bp.get("/articles/<int:article_id>/raw")
@login_required
def article_raw(article_id: int):
    article = _article(article_id)
    if article.raw is None:
        abort(404)
    name = f"{article.ticket.number}-{article.id}.eml"
    return download_response(article.raw.data, name, "message/rfc822")


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    item = db.session.get(Attachment, attachment_id)
    if item is None:
        abort(404)
    require_ticket_access(item.article.ticket)
    return download_response(item.data, item.filename or f"attachment-{item.id}", item.content_type)


@bp.get("/attachments/<int:attachment_id>/inline")
def attachment_inline(attachment_id: int):
    """An inline (cid:) image of an article, for its HTML frame; only raster images are served.

    The frame is sandboxed (an opaque origin), so the browser sends it no session
    cookie: the URL carries a signed, short-lived token issued to whoever was allowed
    to open the article (see mailhtml.inline_image_url). Without a valid token the
    usual login and queue check apply.
    """
    item = db.session.get(Attachment, attachment_id)
    if item is None:
        abort(404)
    if not mailhtml.inline_token_valid(attachment_id, request.args.get("t", "")):
        if not current_user.is_authenticated:
            abort(403)
        require_ticket_access(item.article.ticket)
    return inline_image_response(item.data, item.content_type)
