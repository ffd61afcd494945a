"""`intake check`, `intake fetch`, `intake worker`, `intake scheduler`, `intake run`."""
from __future__ import annotations

import logging
import sys
import time

import click
from flask.cli import with_appcontext
from flask import current_app
from sqlalchemy import select

from .. import accounts as service
from .. import fetching, scheduling
from ..errors import IntakeError
from ..extensions import db
from ..models import MailAccount, Validity
from ..oauth import session as oauth_session
from ..transport import Transcript, TransportError, get_transport
from ._util import emit_json


def register(cli: click.Group) -> None:
    for command in (check, fetch, worker, scheduler, run):
        cli.add_command(command)


@click.command()
@click.argument("ref")
@with_appcontext
def check(ref: str) -> None:
    """Connect, authenticate and count messages; print the protocol transcript (secrets redacted)."""
    account = service.find_account(ref)
    result = check_account(account)
    for line in result["transcript"]:
        click.echo(line)
    if result["ok"]:
        click.echo(f"OK: {result['messages']} messages, {result['bytes']} bytes in {account.folder if 'imap' in account.protocol else 'the mailbox'}")
    else:
        click.echo(f"error: {result['error']}", err=True)
        sys.exit(1)


def check_account(account: MailAccount) -> dict:
    """The cheap path behind the admin's Test button: nothing is collected or flagged."""
    transcript = Transcript()
    result = {"ok": False, "messages": 0, "bytes": 0, "error": None, "transcript": transcript.lines}
    try:
        cls = get_transport(account.protocol)
        settings, credentials = service.transport_settings(account), service.credentials(account)
        db.session.commit()  # hold no database transaction while talking to the server
        session = cls(settings, transcript)
        try:
            session.open()
            oauth_session.authenticate(session, account, credentials)  # OAuth2: refresh once on rejection
            refs = session.list_messages()
            result.update(ok=True, messages=len(refs), bytes=sum(ref.size for ref in refs))
            session.finish()
        finally:
            session.close()
    except (TransportError, IntakeError) as exc:
        result["error"] = str(exc)
    return result


@click.command()
@click.argument("refs", nargs=-1)
@click.option("--all", "all_accounts", is_flag=True, help="Every enabled, valid account.")
@click.option("--debug", is_flag=True, help="Log what happens, to standard error.")
@click.option("--json", "as_json", is_flag=True, help="Print the run reports as JSON.")
@with_appcontext
def fetch(refs: tuple[str, ...], all_accounts: bool, debug: bool, as_json: bool) -> None:
    """Collect ACCOUNT… (id or name) now, in this process."""
    if bool(refs) == all_accounts:
        raise click.UsageError("name one or more accounts, or give --all")
    if debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    if all_accounts:
        accounts = list(db.session.scalars(select(MailAccount).where(
            MailAccount.enabled.is_(True), MailAccount.validity == Validity.VALID.value).order_by(MailAccount.id)))
    else:
        accounts = [service.find_account(ref) for ref in refs]
    reports, failed = [], False
    for account in accounts:
        fetching.ensure_collectable(account)
        progress = None if as_json else _progress_printer()
        report = fetching.collect(account.id, "cli", progress=progress)
        reports.append(report)
        failed |= report.status in ("error", "locked")
        if not as_json:
            click.echo(_summary(report), err=report.status == "error")
    if as_json:
        from dataclasses import asdict

        emit_json([asdict(r) for r in reports])
    if failed:
        sys.exit(1)


def _progress_printer():
    interactive = sys.stderr.isatty()

    def show(report: fetching.RunReport) -> None:
        if interactive and report.to_fetch:
            done = report.fetched
            width = 30
            filled = int(width * done / report.to_fetch)
            click.echo(f"\r{report.account}: [{'#' * filled}{'.' * (width - filled)}] {done}/{report.to_fetch}",
                       err=True, nl=report.status != "running")
    return show


def _summary(report: fetching.RunReport) -> str:
    text = (f"{report.account}: {report.status} — {report.listed} on server, {report.fetched} fetched, "
            f"{report.stored} stored, {report.duplicates} duplicates, {report.too_large} too large, "
            f"{report.failed} failed, {report.removed} removed from server")
    if report.error:
        text += f"\n  error: {report.error}"
    for problem in report.problems[:20]:
        text += f"\n  problem: {problem['key']}: {problem['problem']}"
    return text


@click.command()
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Quit when the queues are empty.")
@with_appcontext
def worker(queues: tuple[str, ...], burst: bool) -> None:
    """Run an RQ worker for QUEUES (default: the default queue)."""
    redis_client = _require_redis("intake worker")
    from rq import Queue, Worker

    names = list(queues) or [current_app.config["RQ_DEFAULT_QUEUE"]]
    worker = Worker([Queue(name, connection=redis_client) for name in names], connection=redis_client)
    worker.work(burst=burst, logging_level="INFO")


@click.command()
@click.option("--once", is_flag=True, help="One tick, then exit.")
@with_appcontext
def scheduler(once: bool) -> None:
    """Enqueue due accounts every SCHEDULER_TICK_SECONDS."""
    _require_redis("intake scheduler")
    interval = float(current_app.config["SCHEDULER_TICK_SECONDS"])
    while True:
        enqueued = scheduling.tick()
        if enqueued:
            click.echo(f"enqueued accounts {', '.join(map(str, enqueued))}")
        if once:
            return
        db.session.remove()
        time.sleep(interval)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@with_appcontext
def run(host: str, port: int) -> None:
    """Serve the web app; without INTAKE_REDIS_URL also run the scheduler and jobs in this process."""
    from werkzeug.serving import run_simple

    from .. import migrate
    from ..jobs import EmbeddedRunner

    app = current_app._get_current_object()
    if not migrate.is_current():
        raise IntakeError("the database schema is not current; run `intake init` first")
    runner = None
    if app.extensions.get("intake_redis") is None:
        runner = EmbeddedRunner(app).start()
        click.echo("embedded mode: scheduler and collection jobs run in this process", err=True)
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if runner:
            runner.stop()


def _require_redis(what: str):
    client = current_app.extensions.get("intake_redis")
    if client is None:
        raise IntakeError(f"{what} needs INTAKE_REDIS_URL; without Redis, `intake run` runs the scheduler and jobs itself")
    return client
