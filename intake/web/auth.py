"""Login and logout (flask-login), with throttling of failed attempts."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from ..extensions import db
from ..models import User
from .security import clear_login_failures, login_blocked, record_login_failure

bp = Blueprint("auth", __name__)

# Compared against when the address is unknown, so a wrong address costs as long as a wrong password.
_DUMMY_HASH = "scrypt:32768:8:1$0123456789abcdef$" + "0" * 128


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("tickets.queues"))
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()[:320]
        if login_blocked(email):
            abort(429, "Too many failed logins for this address or from this network. "
                       "Wait 15 minutes, or ask an administrator to check your account.")
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        password = request.form.get("password", "")
        valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
        if user and valid and user.active:
            clear_login_failures(email)
            session.clear()  # a fresh session: nothing from before the login survives (fixation)
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")) or url_for("tickets.queues"))
        record_login_failure(email)
        flash("Wrong e-mail address or password." if not (user and valid) else "This account is disabled.", "error")
        return render_template("auth/login.html", email=email), 401
    return render_template("auth/login.html", email=email)


def _safe_next(target: str | None) -> str | None:
    """Only a local path is followed after login (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
