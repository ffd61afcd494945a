"""The per-account refresh lock, shared by every worker: only one of them refreshes a token.

With Redis configured it is a Redis lock (redis-py's ``Lock``); otherwise a row in
``oauth_refresh_locks``, written through the caller's session (each step commits, so
it is used only at clean points, never while a transaction of the caller is open).
Either way it expires on its own if its holder dies mid-refresh, and a worker that
finds it taken waits for the holder to finish and then uses the holder's new token.
"""
from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import OAuthRefreshLock, utcnow
from .errors import OAuthError

#: A refresh is one HTTP request (client.HTTP_TIMEOUT_SECONDS) plus a commit; the lock outlives that.
LOCK_TTL_SECONDS = 90
#: How long a worker waits for another worker's refresh before giving up (this run only).
LOCK_WAIT_SECONDS = 120
LOCK_POLL_SECONDS = 0.1


class RefreshLockTimeout(OAuthError):
    """Another worker held the refresh lock for too long."""


class RedisRefreshLock:
    def __init__(self, redis_client, account_id: int):
        self._lock = redis_client.lock(f"intake:lock:oauth-refresh:{account_id}", timeout=LOCK_TTL_SECONDS,
                                       sleep=LOCK_POLL_SECONDS)

    def acquire(self, wait: float) -> bool:
        return bool(self._lock.acquire(blocking=True, blocking_timeout=wait))

    def release(self) -> None:
        try:
            self._lock.release()
        except Exception:  # noqa: BLE001 - expired already: nothing left to release
            pass


class DatabaseRefreshLock:
    def __init__(self, account_id: int):
        self.account_id = account_id
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _try(self) -> bool:
        table = OAuthRefreshLock.__table__
        session = db.session
        session.commit()
        expires = utcnow() + timedelta(seconds=LOCK_TTL_SECONDS)
        taken = session.execute(
            update(table).where(table.c.account_id == self.account_id, table.c.expires_at < utcnow())
            .values(owner=self.owner, expires_at=expires)
        ).rowcount
        if not taken:
            try:
                session.execute(insert(table).values(account_id=self.account_id, owner=self.owner, expires_at=expires))
            except IntegrityError:
                session.rollback()
                return False
        session.commit()
        return True

    def acquire(self, wait: float) -> bool:
        deadline = time.monotonic() + wait
        while not self._try():
            if time.monotonic() >= deadline:
                return False
            time.sleep(LOCK_POLL_SECONDS)
        return True

    def release(self) -> None:
        table = OAuthRefreshLock.__table__
        db.session.rollback()
        db.session.execute(delete(table).where(table.c.account_id == self.account_id, table.c.owner == self.owner))
        db.session.commit()


@contextlib.contextmanager
def refresh_lock(account_id: int, account_name: str):
    """Hold the account's refresh lock; waits up to LOCK_WAIT_SECONDS for another holder."""
    redis_client = current_app.extensions.get("intake_redis")
    lock = RedisRefreshLock(redis_client, account_id) if redis_client is not None else DatabaseRefreshLock(account_id)
    if not lock.acquire(LOCK_WAIT_SECONDS):
        raise RefreshLockTimeout(
            f"another worker has been refreshing the token of account {account_name} for over "
            f"{LOCK_WAIT_SECONDS} s; the next run tries again"
        )
    try:
        yield
    finally:
        lock.release()
