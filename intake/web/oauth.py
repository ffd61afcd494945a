"""OAuth2 screens (administrators only): providers and their redirect URI, each OAuth2
account's token status, "Authorize" (authorization code + PKCE + state), and the callback.

The pending authorization (state, PKCE verifier, account) waits in the administrator's
session, Fernet-encrypted, so neither the verifier nor the state can be read from the
cookie; the callback only accepts the state it belongs to.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, session, url_for
from sqlalchemy import select

from ..errors import IntakeError
from ..extensions import db
from ..models import AuthMethod, MailAccount, OAuthGrant
from ..oauth import config as provider_service
from ..oauth.providers import available_providers
from ..oauth.authorize import PendingAuthorization, finish_authorization, start_authorization
from ..oauth.status import describe, provider_warnings
from .security import CSP, admin_required  # CSP: the site-wide policy, extended on the Authorize page

bp = Blueprint("oauth", __name__, url_prefix="/oauth")

#: Session key of the authorization waiting for its callback.
PENDING_SESSION_KEY = "intake_oauth_pending"


@bp.get("/providers")
@admin_required
def providers():
    rows = provider_service.list_providers()
    accounts = db.session.scalars(select(MailAccount).where(MailAccount.auth_method == AuthMethod.OAUTH2.value)
                                  .order_by(MailAccount.name)).all()
    return render_template("oauth/providers.html", providers=[provider_service.describe_provider(r) for r in rows],
                           accounts=[describe(a) for a in accounts], warnings=provider_warnings(),
                           redirect_uri=provider_service.redirect_uri())


# --- provider configurations: add, edit, delete (the console's `intake oauth providers …` on the web) ---
PROVIDER_FORM_FIELDS = ("kind", "client_id", "tenant", "authority", "authorize_url", "token_url", "device_url",
                        "discovery_url", "scopes", "client_secret_expires_at")


@bp.route("/providers/new", methods=["GET", "POST"])
@bp.route("/providers/<int:provider_id>/edit", methods=["GET", "POST"])
@admin_required
def provider_form(provider_id: int | None = None):
    from . import audit

    row = provider_service.find_provider(provider_id) if provider_id else None
    values = {field: getattr(row, field) for field in PROVIDER_FORM_FIELDS} if row else {"kind": "microsoft"}
    error = None
    if request.method == "POST":
        values = {field: request.form.get(field, "") for field in PROVIDER_FORM_FIELDS}
        submitted = dict(values)
        if request.form.get("client_secret"):  # empty: unchanged (never echoed back)
            submitted["client_secret"] = request.form["client_secret"]
        try:
            if row is None:
                row = provider_service.add_provider(request.form.get("name", ""), submitted)
                changed = sorted(submitted)
            else:
                changed = provider_service.update_provider(row, submitted)
            db.session.flush()
            audit.record("oauth-provider.save", "oauth-provider", row.id, row.name,
                         {field: "changed" for field in changed})
            db.session.commit()
            return redirect(url_for("oauth.providers"))
        except IntakeError as exc:
            db.session.rollback()
            row = provider_service.find_provider(provider_id) if provider_id else None
            error = str(exc)
    kinds = sorted(available_providers())
    return render_template("oauth/provider_form.html", row=row, values=values, error=error, kinds=kinds,
                           name=request.form.get("name", "") if row is None else row.name,
                           redirect_uri=provider_service.redirect_uri()), 422 if error else 200


@bp.post("/providers/<int:provider_id>/delete")
@admin_required
def provider_delete(provider_id: int):
    from . import audit

    row = provider_service.find_provider(provider_id)
    try:
        provider_service.delete_provider(row)
        audit.record("oauth-provider.delete", "oauth-provider", provider_id, row.name)
        db.session.commit()
    except IntakeError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("oauth.providers"))


@bp.get("/accounts/<int:account_id>")
@admin_required
def account(account_id: int):
    mail_account = _oauth_account(account_id)
    response = make_response(render_template("oauth/account.html", account=mail_account, entry=describe(mail_account),
                                             redirect_uri=provider_service.redirect_uri()))
    origin = _authorize_origin(mail_account)
    if origin:  # the Authorize form's POST is answered by a redirect to the provider: let CSP allow it
        response.headers["Content-Security-Policy"] = CSP.replace("form-action 'self'", f"form-action 'self' {origin}")
    return response


@bp.post("/accounts/<int:account_id>/authorize")
@admin_required
def authorize(account_id: int):
    mail_account = _oauth_account(account_id)
    try:
        url, pending = start_authorization(mail_account)
    except IntakeError as exc:
        return render_template("oauth/result.html", account=mail_account, error=str(exc)), 400
    session[PENDING_SESSION_KEY] = pending.seal()
    return redirect(url)


@bp.get("/callback")
@admin_required
def callback():
    sealed = session.pop(PENDING_SESSION_KEY, None)
    try:
        pending = PendingAuthorization.unseal(sealed)
        mail_account = finish_authorization(pending, request.args.to_dict())
    except IntakeError as exc:
        db.session.rollback()
        return render_template("oauth/result.html", account=None, error=str(exc)), 400
    return render_template("oauth/result.html", account=mail_account, error=None,
                           entry=describe(mail_account))


def _oauth_account(account_id: int) -> MailAccount:
    mail_account = db.session.get(MailAccount, account_id)
    if mail_account is None or mail_account.auth_method != AuthMethod.OAUTH2.value:
        abort(404)
    return mail_account


def _authorize_origin(mail_account: MailAccount) -> str | None:
    if mail_account.oauth_grant != OAuthGrant.AUTHORIZATION_CODE.value or mail_account.oauth_provider is None:
        return None
    try:
        url = provider_service.plugin_of(mail_account.oauth_provider).endpoints().authorize
    except IntakeError:
        return None
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None

