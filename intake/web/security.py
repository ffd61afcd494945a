"""Security of every response and request: headers (CSP), cookies, roles, queue grants, login throttling.

* CSP: no inline script anywhere (``script-src 'self'``: all JavaScript is in
  intake/static); pages may not be framed by other sites. The article-HTML route sets
  its own, stricter policy (see tickets_view.py).
* Session cookie: HttpOnly, SameSite=Lax, and Secure whenever the request came over
  HTTPS (behind a proxy set ``PROXY_FIX_HOPS`` so X-Forwarded-Proto is believed) or
  ``SESSION_COOKIE_SECURE`` is set.
* Roles: administrators see everything; agents see the queues granted to them.
* Login throttling: failed logins are recorded; more than ``LOGIN_MAX_FAILURES_PER_EMAIL``
  for one address, or ``LOGIN_MAX_FAILURES_PER_IP`` from one client, within
  ``LOGIN_THROTTLE_SECONDS`` refuse further attempts until the window has passed.
"""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import Flask, abort, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_required
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import LoginFailure, Ticket, User, utcnow

#: Settings of this module (overridable in the app config), documented in docs/web.md.
DEFAULTS = {
    "LOGIN_MAX_FAILURES_PER_EMAIL": 5,
    "LOGIN_MAX_FAILURES_PER_IP": 20,
    "LOGIN_THROTTLE_SECONDS": 900,
    "PROXY_FIX_HOPS": 0,
    "SESSION_LIFETIME_SECONDS": 12 * 3600,
}

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, Secure whenever the request itself is HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=int(app.config["SESSION_LIFETIME_SECONDS"]))
    app.session_interface = SessionInterface()
    hops = int(app.config["PROXY_FIX_HOPS"])
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.after_request(_headers)


def _headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static" and current_user and current_user.is_authenticated:
        headers.setdefault("Cache-Control", "no-store")  # pages with ticket data stay out of caches
    return response


# --- roles and grants ---
def admin_required(view):
    """Administrators only; anyone else gets the 403 page."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def visible_queue_ids(user: User) -> set[int] | None:
    """None for administrators (every queue), else the ids of the queues granted to the agent."""
    if user.is_admin:
        return None
    return {queue.id for queue in user.queues}


def can_see_queue(user: User, queue_id: int) -> bool:
    visible = visible_queue_ids(user)
    return visible is None or queue_id in visible


def restrict_to_visible(query, user: User):
    visible = visible_queue_ids(user)
    if visible is None:
        return query
    return query.where(Ticket.queue_id.in_(sorted(visible) or [-1]))


def require_ticket_access(ticket: Ticket | None) -> Ticket:
    if ticket is None:
        abort(404)
    if not can_see_queue(current_user, ticket.queue_id):
        abort(403)
    return ticket


# --- login throttling ---
def client_ip() -> str:
    return (request.remote_addr or "")[:64]


def login_blocked(email: str) -> bool:
    config = current_app.config
    since = utcnow() - timedelta(seconds=int(config["LOGIN_THROTTLE_SECONDS"]))
    by_email = db.session.scalar(select(func.count()).where(LoginFailure.email == email, LoginFailure.at >= since))
    if by_email >= int(config["LOGIN_MAX_FAILURES_PER_EMAIL"]):
        return True
    by_ip = db.session.scalar(select(func.count()).where(LoginFailure.ip == client_ip(), LoginFailure.at >= since))
    return by_ip >= int(config["LOGIN_MAX_FAILURES_PER_IP"])


def record_login_failure(email: str) -> None:
    now = utcnow()
    cutoff = now - timedelta(seconds=int(current_app.config["LOGIN_THROTTLE_SECONDS"]))
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < cutoff))  # keep the table small
    db.session.add(LoginFailure(email=email[:320], ip=client_ip(), at=now))
    db.session.commit()


def clear_login_failures(email: str) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    db.session.commit()
