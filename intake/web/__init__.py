"""Web UI: one blueprint per area, plus the shared security, error pages and template helpers.

Blueprints: auth (login/logout), tickets (queues, list, search), ticket (one ticket and
its articles, attachments, raw source, changes), admin_accounts (mail accounts),
admin_settings (queues, system addresses), admin_users (users and queue grants),
admin_failed (failed mail), dashboard (intake charts), audit (the audit log), rules (filter
rules and the routing preview). The OAuth screens (intake/web/oauth.py, issue 4) are
registered when that module is present.
"""
from __future__ import annotations

import importlib
import logging

from flask import Flask

from ..extensions import db, login_manager
from ..models import User

log = logging.getLogger(__name__)

BLUEPRINTS = ("auth", "tickets", "ticket", "admin_accounts", "account_ops", "admin_settings", "admin_users", "admin_failed",
              "dashboard", "audit", "rules")
#: Areas built by other issues: registered when present (``bp`` in the module).
OPTIONAL_BLUEPRINTS = ("oauth",)


def init_app(app: Flask) -> None:
    from . import errors, security, ui

    security.init_app(app)
    errors.init_app(app)
    ui.init_app(app)
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(f"{__name__}.{name}").bp)
    for name in OPTIONAL_BLUEPRINTS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        if hasattr(module, "init_app"):
            module.init_app(app)
        elif hasattr(module, "bp") and module.bp.name not in app.blueprints:
            app.register_blueprint(module.bp)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active else None

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}
