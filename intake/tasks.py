"""Job functions, thin and self-contained: RQ workers and embedded threads call these same functions.

Each builds (or reuses) its own app context, so an ``rq worker`` needs nothing but
the INTAKE_* environment.
"""
from __future__ import annotations

from dataclasses import asdict

from flask import Flask, current_app, has_app_context

_app: Flask | None = None


def _app_context():
    global _app
    if has_app_context():
        return current_app.app_context()
    if _app is None:
        from . import create_app

        _app = create_app()
    return _app.app_context()


def collect_account_job(account_id: int, trigger: str = "schedule") -> dict:
    from . import fetching, scheduling
    from .errors import AccountNotCollectable

    with _app_context():
        try:
            report = fetching.collect(account_id, trigger)
            return asdict(report)
        except AccountNotCollectable as exc:
            return {"status": "refused", "error": str(exc)}
        finally:
            scheduling.release(account_id)


def scheduler_tick() -> list[int]:
    from . import scheduling

    with _app_context():
        return scheduling.tick()
