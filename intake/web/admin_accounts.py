"""Administrators: the mail-account list, the add/edit form, and deleting an account."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from .. import accounts as service
from ..errors import ValidationError
from ..extensions import db
from ..models import (Article, AuthMethod, CollectedMessage, CollectionRun, Dispatch, FailedMessage, MailAccount,
                      Queue, Validity)
from . import audit
from .account_form import NEW_ACCOUNT, protocol_choices, read_form, snapshot
from .security import admin_required

bp = Blueprint("admin_accounts", __name__, url_prefix="/admin/accounts")


def get_account(account_id: int) -> MailAccount:
    account = db.session.get(MailAccount, account_id)
    if account is None:
        abort(404)
    return account


def latest_runs(account_ids) -> dict[int, CollectionRun]:
    newest = select(func.max(CollectionRun.id)).group_by(CollectionRun.account_id).scalar_subquery()
    runs = db.session.scalars(select(CollectionRun).where(CollectionRun.id.in_(newest),
                                                          CollectionRun.account_id.in_(list(account_ids))))
    return {run.account_id: run for run in runs}


@bp.get("/")
@admin_required
def index():
    accounts = list(db.session.scalars(select(MailAccount).order_by(MailAccount.name)))
    runs = latest_runs([a.id for a in accounts]) if accounts else {}
    labels = {p.name: p.label for p in protocol_choices()}
    return render_template("admin/accounts.html", accounts=accounts, runs=runs, labels=labels,
                           q=request.args.get("q", ""))


def _form(account: MailAccount | None, values: dict, error: str | None = None, status: int = 200):
    queues = list(db.session.scalars(select(Queue).order_by(Queue.name)))
    return render_template("admin/account_form.html", account=account, values=values, error=error,
                           protocols=protocol_choices(), queues=queues, validities=[v.value for v in Validity],
                           dispatches=[d.value for d in Dispatch], auth_methods=[m.value for m in AuthMethod],
                           oauth_providers=_oauth_provider_names()), status


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    if request.method == "GET":
        return _form(None, dict(NEW_ACCOUNT))
    values = read_form(request.form)
    account = MailAccount()
    try:
        if db.session.scalar(select(MailAccount.id).where(MailAccount.name == values.get("name", "").strip())):
            raise ValidationError(f"an account named {values.get('name')!r} exists already; choose another name")
        service.apply_settings(account, values)
    except ValidationError as exc:
        values.pop("password", None)
        return _form(None, values, str(exc), 422)
    db.session.add(account)
    db.session.flush()
    changes = {k: [None, v] for k, v in snapshot(account).items() if k != "password_set" and v not in (None, "")}
    if account.password:
        changes["password"] = audit.SECRET
    audit.record("account.create", "account", account.id, account.name, changes)
    db.session.commit()
    flash(f"Mail account {account.name} added. Test it before it collects.", "success")
    return redirect(url_for("account_ops.show", account_id=account.id))


@bp.route("/<int:account_id>/edit", methods=["GET", "POST"])
@admin_required
def edit(account_id: int):
    account = get_account(account_id)
    if request.method == "GET":
        return _form(account, snapshot(account))
    values = read_form(request.form)
    before = snapshot(account)
    try:
        other = db.session.scalar(select(MailAccount.id).where(MailAccount.name == values.get("name", "").strip(),
                                                               MailAccount.id != account.id))
        if other:
            raise ValidationError(f"an account named {values.get('name')!r} exists already; choose another name")
        changed = service.apply_settings(account, values)
    except ValidationError as exc:
        db.session.rollback()
        values.pop("password", None)
        values["password_set"] = before["password_set"]
        return _form(account, values, str(exc), 422)
    after = snapshot(account)
    changes = {field: audit.SECRET if field in service.SECRET_FIELDS else [before.get(field), after.get(field)]
               for field in changed}
    if changes:
        audit.record("account.update", "account", account.id, account.name, changes)
    db.session.commit()
    flash(f"Saved {account.name}: {', '.join(changes) or 'nothing changed'}.", "success")
    return redirect(url_for("account_ops.show", account_id=account.id))


def deletion_impact(account: MailAccount) -> dict[str, int]:
    def count(model, column):
        return db.session.scalar(select(func.count()).select_from(model).where(column == account.id))
    return {
        "runs": count(CollectionRun, CollectionRun.account_id),
        "collected": count(CollectedMessage, CollectedMessage.account_id),
        "failed": count(FailedMessage, FailedMessage.account_id),
        "articles": count(Article, Article.account_id),
    }


@bp.route("/<int:account_id>/delete", methods=["GET", "POST"])
@admin_required
def delete(account_id: int):
    account = get_account(account_id)
    impact = deletion_impact(account)
    if request.method == "POST":
        if request.form.get("confirm_name", "").strip() != account.name:
            flash("Type the account's name exactly to confirm the deletion.", "error")
            return render_template("admin/account_delete.html", account=account, impact=impact), 422
        audit.record("account.delete", "account", account.id, account.name, {"impact": impact})
        db.session.delete(account)
        db.session.commit()
        flash(f"Mail account {account.name} deleted.", "success")
        return redirect(url_for(".index"))
    return render_template("admin/account_delete.html", account=account, impact=impact)


@bp.post("/<int:account_id>/enabled")
@admin_required
def set_enabled(account_id: int):
    account = get_account(account_id)
    enabled = request.form.get("enabled") == "1"
    if account.enabled != enabled:
        service.apply_settings(account, {"enabled": enabled})
        audit.record("account.update", "account", account.id, account.name, {"enabled": [not enabled, enabled]})
        db.session.commit()
    flash(f"{account.name} is {'enabled' if enabled else 'disabled'}.", "success")
    return redirect(url_for("account_ops.show", account_id=account.id))


def _oauth_provider_names() -> list[str]:
    from ..models import OAuthProviderConfig

    return list(db.session.scalars(select(OAuthProviderConfig.name).order_by(OAuthProviderConfig.name)))
