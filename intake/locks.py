"""The per-account collection lock: one run per account at a time, across processes and machines.

With Redis configured (RQ mode) the lock is a Redis key with an expiry (redis-py's
``Lock``); otherwise it is a row in ``account_locks``, written through the caller's session. Either way it expires on its own
if its holder dies, and the holder extends it after every batch.
"""
from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import AccountLock, utcnow


class RedisAccountLock:
    def __init__(self, redis_client, account_id: int, ttl: int):
        self._lock = redis_client.lock(f"intake:lock:account:{account_id}", timeout=ttl, blocking=False)
        self.ttl = ttl

    def acquire(self) -> bool:
        return bool(self._lock.acquire(blocking=False))

    def extend(self) -> None:
        self._lock.extend(self.ttl, replace_ttl=True)

    def release(self) -> None:
        try:
            self._lock.release()
        except Exception:  # noqa: BLE001 - expired already: nothing left to release
            pass


class DatabaseAccountLock:
    """A row per held lock. Each call commits the session, so callers use it only at clean points
    (before a run, after a batch's commit): one connection, no second writer waiting on the first."""

    def __init__(self, account_id: int, ttl: int):
        self.account_id = account_id
        self.ttl = ttl
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _expiry(self):
        return utcnow() + timedelta(seconds=self.ttl)

    def acquire(self) -> bool:
        table = AccountLock.__table__
        session = db.session
        session.commit()
        taken = session.execute(
            update(table)
            .where(table.c.account_id == self.account_id, table.c.expires_at < utcnow())
            .values(owner=self.owner, expires_at=self._expiry())
        ).rowcount
        if not taken:
            try:
                session.execute(insert(table).values(account_id=self.account_id, owner=self.owner,
                                                     expires_at=self._expiry()))
            except IntegrityError:
                session.rollback()
                return False
        session.commit()
        return True

    def extend(self) -> None:
        table = AccountLock.__table__
        db.session.execute(update(table).where(table.c.account_id == self.account_id, table.c.owner == self.owner)
                           .values(expires_at=self._expiry()))
        db.session.commit()

    def release(self) -> None:
        table = AccountLock.__table__
        db.session.rollback()
        db.session.execute(delete(table).where(table.c.account_id == self.account_id, table.c.owner == self.owner))
        db.session.commit()


def account_lock(account_id: int):
    ttl = int(current_app.config["LOCK_TIMEOUT_SECONDS"])
    redis_client = current_app.extensions.get("intake_redis")
    if redis_client is not None:
        return RedisAccountLock(redis_client, account_id, ttl)
    return DatabaseAccountLock(account_id, ttl)
