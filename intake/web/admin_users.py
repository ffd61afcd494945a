"""Administrators: the people who log in, their role, and the queues agents may see."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ..extensions import db
from ..models import Queue, User
from . import audit
from .security import admin_required

bp = Blueprint("admin_users", __name__, url_prefix="/admin/users")

MIN_PASSWORD_LENGTH = 8


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _state(user: User) -> dict:
    return {"email": user.email, "name": user.name, "role": "administrator" if user.is_admin else "agent",
            "active": user.active, "queues": ", ".join(sorted(q.name for q in user.queues))}


@bp.get("/")
@admin_required
def index():
    users = list(db.session.scalars(select(User).order_by(User.email)))
    return render_template("admin/users.html", users=users)


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:user_id>", methods=["GET", "POST"])
@admin_required
def edit(user_id: int | None = None):
    user = _user(user_id) if user_id else None
    queues = list(db.session.scalars(select(Queue).order_by(Queue.name)))
    if request.method == "GET":
        return render_template("admin/user_form.html", user=user, queues=queues, error=None)
    form = request.form
    email = form.get("email", "").strip()
    password = form.get("password", "")
    error = None
    clash = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if "@" not in email or len(email) > 320:
        error = "Give the person's e-mail address; they log in with it."
    elif clash is not None and clash is not user:
        error = f"{email} has an account already."
    elif (user is None or password) and len(password) < MIN_PASSWORD_LENGTH:
        error = f"The password needs at least {MIN_PASSWORD_LENGTH} characters."
    elif user is not None and user.id == current_user.id and (form.get("role") != "administrator" or form.get("active") != "on"):
        error = "You cannot remove your own administrator role or disable yourself (ask another administrator)."
    if error:
        return render_template("admin/user_form.html", user=user, queues=queues, error=error), 422
    before = _state(user) if user else {}
    if user is None:
        user = User(email=email, password_hash="")
        db.session.add(user)
    user.email, user.name = email, form.get("name", "").strip()[:200]
    user.is_admin = form.get("role") == "administrator"
    user.active = form.get("active") == "on"
    granted = {int(v) for v in form.getlist("queues") if v.isdigit()}
    user.queues = [q for q in queues if q.id in granted]
    if password:
        user.password_hash = generate_password_hash(password)
    db.session.flush()
    changes = audit.diff(before, _state(user))
    if password:
        changes["password"] = audit.SECRET
    audit.record("user.create" if not before else "user.update", "user", user.id, user.email, changes)
    db.session.commit()
    flash(f"{user.email} saved.", "success")
    return redirect(url_for(".index"))


@bp.post("/<int:user_id>/delete")
@admin_required
def delete(user_id: int):
    user = _user(user_id)
    if user.id == current_user.id:
        flash("You cannot delete yourself.", "error")
        return redirect(url_for(".index"))
    audit.record("user.delete", "user", user.id, user.email, {"role": ["administrator" if user.is_admin else "agent", None]})
    db.session.delete(user)
    db.session.commit()
    flash(f"{user.email} deleted; their tickets are now unassigned.", "success")
    return redirect(url_for(".index"))
