"""Administrators, one mail account: overview, Test configuration, Fetch now with live progress,
Browse mailbox (without collecting), and its collection runs."""
from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import accounts as service
from .. import scheduling
from ..cli.collect import check_account
from ..errors import IntakeError
from ..extensions import db
from ..models import CollectedMessage, CollectionRun, Validity
from ..transport import TransportError, get_transport
from .admin_accounts import get_account
from .account_form import protocol_choices
from .pages import keyset_page
from .security import admin_required

log = logging.getLogger(__name__)
bp = Blueprint("account_ops", __name__, url_prefix="/admin/accounts")

BROWSE_LIMIT = 50
RUNS_PAGE_SIZE = 50


def _is_htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


@bp.get("/<int:account_id>")
@admin_required
def show(account_id: int):
    account = get_account(account_id)
    runs = list(db.session.scalars(select(CollectionRun).where(CollectionRun.account_id == account.id)
                                   .order_by(CollectionRun.id.desc()).limit(10)))
    labels = {p.name: p.label for p in protocol_choices()}
    return render_template("admin/account.html", account=account, runs=runs, run=runs[0] if runs else None,
                           labels=labels, describe=service.describe(account))


@bp.post("/<int:account_id>/test")
@admin_required
def test(account_id: int):
    """Connect, log in and count, showing the protocol transcript (secrets redacted); nothing is collected."""
    account = get_account(account_id)
    result = check_account(account)
    template = "admin/_test_result.html" if _is_htmx() else "admin/account_test.html"
    return render_template(template, account=account, result=result)


@bp.post("/<int:account_id>/fetch")
@admin_required
def fetch(account_id: int):
    account = get_account(account_id)
    if account.validity != Validity.VALID.value:
        flash(f"{account.name} is {account.validity}: set it valid before collecting.", "error")
        return redirect(url_for(".show", account_id=account.id))
    try:
        started = scheduling.enqueue_collection(account, "manual")
    except RuntimeError as exc:
        log.warning("fetch now for account %s: %s", account.id, exc)
        flash("No collection worker is running: start Intake with `intake run`, or run RQ workers "
              "with INTAKE_REDIS_URL set.", "error")
        return redirect(url_for(".show", account_id=account.id))
    if started:
        flash(f"Collection of {account.name} started.", "success")
    else:
        flash(f"A collection of {account.name} is already queued or running.", "info")
    return redirect(url_for(".show", account_id=account.id) + "#progress")


@bp.get("/<int:account_id>/progress")
@admin_required
def progress(account_id: int):
    """The live progress panel (polled by the page while a run is queued or running).

    Once the run has ended the answer also refreshes the run table and the account's
    facts on the page (htmx out-of-band swaps), and carries no poll trigger: polling stops.
    """
    account = get_account(account_id)
    runs = list(db.session.scalars(select(CollectionRun).where(CollectionRun.account_id == account.id)
                                   .order_by(CollectionRun.id.desc()).limit(10)))
    run = runs[0] if runs else None
    finished = not account.pending_since and not (run and run.status == "running")
    return render_template("admin/_progress.html", account=account, run=run, runs=runs,
                           describe=service.describe(account), refresh=finished and _is_htmx())


@bp.get("/<int:account_id>/browse")
@admin_required
def browse(account_id: int):
    """What is in the mailbox on the server now, without collecting or flagging anything."""
    account = get_account(account_id)
    folders, messages, error = [], [], None
    try:
        cls = get_transport(account.protocol)
        settings, credentials = service.transport_settings(account), service.credentials(account)
        db.session.commit()  # no transaction stays open while we talk to the server
        with cls(settings) as session:
            session.authenticate(credentials)
            folders = session.list_folders()
            messages = list(reversed(session.browse(BROWSE_LIMIT)))
    except (TransportError, IntakeError) as exc:
        error = str(exc)
    collected = set()
    if messages:
        keys = [m.key for m in messages]
        collected = set(db.session.scalars(select(CollectedMessage.server_key).where(
            CollectedMessage.account_id == account.id, CollectedMessage.server_key.in_(keys))))
    return render_template("admin/account_browse.html", account=account, folders=folders, messages=messages,
                           collected=collected, error=error, limit=BROWSE_LIMIT)


@bp.get("/<int:account_id>/runs")
@admin_required
def runs(account_id: int):
    account = get_account(account_id)
    page = keyset_page(select(CollectionRun).where(CollectionRun.account_id == account.id), CollectionRun.id,
                       size=RUNS_PAGE_SIZE)
    return render_template("admin/account_runs.html", account=account, page=page)
