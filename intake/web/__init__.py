"""Web blueprints. The full UI (issue 5) grows here; each blueprint owns one area."""
from __future__ import annotations

from flask import Flask

from ..extensions import db, login_manager
from ..models import User


def init_app(app: Flask) -> None:
    from . import auth, tickets

    app.register_blueprint(auth.bp)
    app.register_blueprint(tickets.bp)
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id))

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}
