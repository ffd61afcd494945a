"""One collection run of one account.

Order of events, which is what keeps every message either stored or still on the
server:

1. take the account lock (one run per account, across machines) — or give up at once;
2. connect, authenticate, list keys and sizes;
3. messages already collected (a crash between commit and delete) are removed in
   delete mode and skipped in keep-on-server mode;
4. per batch: download, run each message through :class:`Ingestor`, **commit**,
   and only then remove (or flag) those messages on the server;
5. ``finish`` makes removals permanent (IMAP EXPUNGE, POP3 QUIT).

A message over the account's size limit is not downloaded; it stays on the server and
the run records it as a problem. Every run is recorded in ``collection_runs``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from . import accounts
from .errors import AccountNotCollectable
from .extensions import db
from .ingest import Ingestor
from .locks import account_lock
from .oauth import OAuthError
from .oauth import session as oauth_session
from .models import CollectedMessage, CollectionRun, MailAccount, Validity, utcnow
from .transport import MessageRef, Transport, TransportError, get_transport

log = logging.getLogger(__name__)

#: Upper bound of the bytes requested in one batch, whatever FETCH_BATCH_SIZE says.
MAX_BATCH_BYTES = 64 * 1024 * 1024

Progress = Callable[["RunReport"], None]


@dataclass
class RunReport:
    account: str
    status: str = "running"  # running, ok, partial, error, locked
    run_id: int | None = None
    listed: int = 0
    to_fetch: int = 0
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    too_large: int = 0
    failed: int = 0
    removed: int = 0
    error: str | None = None
    problems: list = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)


def ensure_collectable(account: MailAccount) -> None:
    if account.validity != Validity.VALID.value:
        raise AccountNotCollectable(
            f"account {account.name} is {account.validity}; only valid accounts are collected "
            f"(set it valid with `intake accounts set {account.id} --validity valid`)"
        )


def collect(account_id: int, trigger: str = "manual", progress: Progress | None = None) -> RunReport:
    """Run one collection of the account. Transport errors are recorded, not raised."""
    account = db.session.get(MailAccount, account_id)
    if account is None:
        raise AccountNotCollectable(f"mail account {account_id} no longer exists")
    ensure_collectable(account)
    report = RunReport(account=account.name)
    db.session.commit()  # start from a clean session: the lock and the run commit on their own
    lock = account_lock(account.id)
    if not lock.acquire():
        report.status = "locked"
        report.error = "another collection run of this account is in progress"
        return report
    try:
        run = CollectionRun(account_id=account.id, trigger=trigger)
        db.session.add(run)
        db.session.commit()
        report.run_id = run.id
        try:
            _collect(account, report, lock, progress)
            report.status = "partial" if (report.problems or report.failed) else "ok"
        except (TransportError, OAuthError) as exc:  # OAuthError: the account needs authorization, or the provider is down
            db.session.rollback()
            report.status, report.error = "error", str(exc)
        except Exception as exc:
            db.session.rollback()
            report.status, report.error = "error", f"{type(exc).__name__}: {exc}"
            log.exception("collection of account %s failed", account.name)
            raise
        finally:
            _record(account_id, run.id, report)
    finally:
        lock.release()
    if progress:
        progress(report)
    return report


def _collect(account: MailAccount, report: RunReport, lock, progress: Progress | None) -> None:
    config = current_app.config
    transport_cls = get_transport(account.protocol)
    credentials = accounts.credentials(account)  # OAuth2: a fresh token before any connection is opened
    with transport_cls(accounts.transport_settings(account)) as session:
        # an OAuth2 token the server rejects is refreshed once and tried once more
        oauth_session.authenticate(session, account, credentials)
        refs = session.list_messages()
        report.listed = len(refs)
        known = set(db.session.scalars(
            select(CollectedMessage.server_key).where(CollectedMessage.account_id == account.id)
        ))
        leftovers = [ref for ref in refs if ref.key in known]
        if leftovers and not account.keep_on_server:
            session.remove(leftovers)  # stored by an earlier run that died before deleting
            report.removed += len(leftovers)
        new = [ref for ref in refs if ref.key not in known]
        new = _drop_too_large(new, account, report)[: account.max_messages_per_run]
        report.to_fetch = len(new)
        if progress:
            progress(report)

        ingestor = Ingestor(db.session, config, account)
        keep_on_server = account.keep_on_server
        db.session.commit()  # no transaction stays open while we talk to the server
        for batch in _batches(new, int(config["FETCH_BATCH_SIZE"])):
            _collect_batch(session, ingestor, account, batch, keep_on_server, report)
            lock.extend()
            if progress:
                progress(report)
        session.finish()


def _collect_batch(session: Transport, ingestor: Ingestor, account: MailAccount,
                   batch: Sequence[MessageRef], keep_on_server: bool, report: RunReport) -> None:
    """Download, store, commit (with the run's counters, for live progress), then remove or flag."""
    done: list[MessageRef] = []
    counts = RunReport(account=report.account)
    downloaded = list(session.fetch(batch))  # the whole batch first: the transaction below stays short
    results = ingestor.process_batch([(ref.key, raw) for ref, raw in downloaded])
    for (ref, _), result in zip(downloaded, results):
        counts.fetched += 1
        done.append(ref)
        if result.outcome == "duplicate":
            counts.duplicates += 1
        elif result.outcome == "failed":
            counts.failed += 1
            counts.problems.append({"key": ref.key, "problem": f"stored as failed mail: {result.error}"})
        else:
            counts.stored += 1
            if result.ticket_number:
                counts.tickets.append(result.ticket_number)
    account.messages_collected += counts.stored
    for name in ("fetched", "duplicates", "failed", "stored"):
        setattr(report, name, getattr(report, name) + getattr(counts, name))
    run = db.session.get(CollectionRun, report.run_id)
    run.listed, run.fetched, run.stored = report.listed, report.fetched, report.stored
    run.duplicates, run.failed, run.too_large = report.duplicates, report.failed, report.too_large
    db.session.commit()  # the messages are stored; only now touch them on the server
    report.problems += counts.problems
    report.tickets += counts.tickets[: max(0, 1000 - len(report.tickets))]
    if keep_on_server:
        session.mark_collected(done)
    else:
        session.remove(done)
        report.removed += len(done)


def _drop_too_large(refs: list[MessageRef], account: MailAccount, report: RunReport) -> list[MessageRef]:
    keep = []
    for ref in refs:
        if ref.size > account.max_message_size:
            report.too_large += 1
            report.problems.append({
                "key": ref.key, "size": ref.size,
                "problem": f"message of {ref.size} bytes is over the account's limit of "
                           f"{account.max_message_size} bytes; it stays on the server",
            })
        else:
            keep.append(ref)
    return keep


def _batches(refs: list[MessageRef], size: int) -> Iterator[list[MessageRef]]:
    batch: list[MessageRef] = []
    batch_bytes = 0
    for ref in refs:
        if batch and (len(batch) >= size or batch_bytes + ref.size > MAX_BATCH_BYTES):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(ref)
        batch_bytes += ref.size
    if batch:
        yield batch


def _record(account_id: int, run_id: int, report: RunReport) -> None:
    """Write the run's outcome and the account's schedule state, whatever happened."""
    db.session.rollback()
    account = db.session.get(MailAccount, account_id)
    run = db.session.get(CollectionRun, run_id)
    now = utcnow()
    for name in ("listed", "fetched", "stored", "duplicates", "too_large", "failed", "removed", "error"):
        setattr(run, name, getattr(report, name))
    run.status = report.status
    run.problems = report.problems[:200]
    run.finished_at = now
    account.last_run_at = now
    if report.status == "error":
        account.consecutive_failures += 1
        account.last_error = report.error
        account.next_run_at = now + timedelta(seconds=backoff_seconds(account))
    else:
        account.consecutive_failures = 0
        account.last_error = None
        account.last_success_at = now
        account.next_run_at = now + timedelta(seconds=account.interval_seconds)
    db.session.commit()


def backoff_seconds(account: MailAccount) -> int:
    """Doubling delay after consecutive failures, capped; a failing account never delays others."""
    cap = int(current_app.config["BACKOFF_MAX_SECONDS"])
    return min(account.interval_seconds * 2 ** min(account.consecutive_failures - 1, 16), cap)
