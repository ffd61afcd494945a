"""Configuration: built-in defaults, then the instance folder's config.py, then INTAKE_* variables.

Every setting is documented in docs/configuration.md. Environment variables use the
prefix ``INTAKE_`` (``INTAKE_DATABASE_URL`` sets ``DATABASE_URL``); values are parsed
as JSON where possible, so ``INTAKE_SCHEDULER_TICK_SECONDS=5`` is an int.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

#: Defaults. Names and meaning are documented in docs/configuration.md.
DEFAULTS: dict[str, object] = {
    "DATABASE_URL": None,  # None: SQLite file intake.sqlite3 in the instance folder
    "REDIS_URL": None,  # None: embedded mode (scheduler and jobs in-process)
    "SECRET_KEY": None,  # None: generated once into instance/secret_key
    "ENCRYPTION_KEY": None,  # Fernet key(s), comma-separated, newest first; None: instance/encryption_key
    "SYSTEM_ID": "10",  # two digits inside every ticket number
    "TICKET_HOOK": "Ticket#",  # subject tag: "[Ticket#2026112310000017]"
    "DEFAULT_QUEUE": "Raw",  # queue for mail no rule places elsewhere
    "FOLLOWUP_SEARCH_BODY": False,  # also look for a ticket number in the body
    "FOLLOWUP_SUBJECT_NEEDS_KNOWN_SENDER": False,  # hijack guard for subject-only follow-ups
    "FOLLOWUP_CLOSED_ACTION": "reopen",  # follow-up to a closed ticket: reopen | new-ticket | append
    "AUTO_ANSWER_LIMIT_PER_HOUR": 10,  # automatic answers to one sender per hour at most
    "MESSAGE_ID_DOMAIN": None,  # domain of Message-IDs Intake generates; None: this host's FQDN
    "FETCH_BATCH_SIZE": 100,  # messages per UID FETCH / pipelined RETR batch
    "SCHEDULER_TICK_SECONDS": 15,  # how often the scheduler looks for due accounts
    "PENDING_TIMEOUT_SECONDS": 3600,  # a queued/running fetch older than this may be enqueued again
    "LOCK_TIMEOUT_SECONDS": 600,  # account lock lifetime; extended after every batch
    "BACKOFF_MAX_SECONDS": 6 * 3600,  # upper bound of the failure back-off
    "EMBEDDED_WORKERS": 2,  # worker threads in embedded mode
    "RQ_DEFAULT_QUEUE": "intake",  # RQ queue of accounts with no worker_queue
    "JOB_TIMEOUT_SECONDS": 3600,  # RQ job timeout of one collection run
}


def load_config(app: Flask, test_config: dict | None) -> None:
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("INTAKE")
    else:
        app.config.from_mapping(test_config)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'intake.sqlite3'}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key", lambda: secrets.token_urlsafe(48))
    if not app.config["ENCRYPTION_KEY"]:
        from cryptography.fernet import Fernet

        app.config["ENCRYPTION_KEY"] = _instance_secret(
            instance / "encryption_key", lambda: Fernet.generate_key().decode()
        )

    if app.config["FOLLOWUP_CLOSED_ACTION"] not in ("reopen", "new-ticket", "append"):
        from .errors import ValidationError

        raise ValidationError("INTAKE_FOLLOWUP_CLOSED_ACTION must be reopen, new-ticket or append")
    if not app.config["MESSAGE_ID_DOMAIN"]:
        import socket

        app.config["MESSAGE_ID_DOMAIN"] = socket.getfqdn() or "localhost"

    url = str(app.config["DATABASE_URL"])
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"


def _instance_secret(path: Path, generate) -> str:
    """Read a secret kept in the instance folder, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    value = generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value
