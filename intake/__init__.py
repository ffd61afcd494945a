"""Intake: a helpdesk intake server. ``create_app`` is the application factory."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from sqlalchemy import event

from .config import load_config
from .extensions import csrf, db, login_manager

__version__ = "0.1.0"


def _template_folder() -> str:
    try:
        import intake_templates  # `templates/`, installed under this name

        return str(Path(intake_templates.__file__).parent)
    except ImportError:  # running from a source tree that is not installed
        return str(Path(__file__).resolve().parent.parent / "templates")


def create_app(test_config: dict | None = None) -> Flask:
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("INTAKE_INSTANCE_PATH")
    app = Flask(__name__, instance_relative_config=True, template_folder=_template_folder(),
                instance_path=instance_path and os.path.abspath(instance_path))
    load_config(app, test_config)

    from .crypto import configure_app

    configure_app(app)
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_setup(db.engine)
    login_manager.init_app(app)
    csrf.init_app(app)

    if app.config["REDIS_URL"]:
        import redis

        app.extensions["intake_redis"] = redis.Redis.from_url(app.config["REDIS_URL"])

    from . import web

    web.init_app(app)
    logging.getLogger("intake").setLevel(app.config.get("LOG_LEVEL", "INFO"))
    return app


def _sqlite_setup(engine) -> None:
    """WAL, a busy timeout and foreign keys; BEGIN IMMEDIATE so concurrent writers wait instead of failing.

    With deferred transactions a reader that later writes fails at once (SQLITE_BUSY)
    when another connection committed in between; IMMEDIATE makes it wait its turn.
    The price: every transaction holds the write lock, so code must not keep one open
    while it does network I/O (the collection run commits before talking to servers).
    PostgreSQL is the choice for many concurrent users.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (needed for SAVEPOINT too)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


__all__ = ["create_app"]
