"""OAuth2 screens (administrators only): providers and their redirect URI, each OAuth2
account's token status, "Authorize" (authorization code + PKCE + state), and the callback.

The pending authorization (state, PKCE verifier, account) waits in the administrator's
session, Fernet-encrypted, so neither the verifier nor the state can be read from the
cookie; the callback only accepts the state it belongs to.
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, make_response, redirect, render_template, request, session
from flask_login import current_user, login_required
from sqlalchemy import select

from ..errors import IntakeError
from ..extensions import db
from ..models import AuthMethod, MailAccount, OAuthGrant
from ..oauth import config as provider_service
from ..oauth.authorize import PendingAuthorization, finish_authorization, start_authorization
from ..oauth.status import describe, provider_warnings
try:
    from .security import CSP  # the site-wide Content-Security-Policy, extended on the Authorize page
except ImportError:  # pragma: no cover - no site-wide policy to extend
    CSP = None

bp = Blueprint("oauth", __name__, url_prefix="/oauth")

#: Session key of the authorization waiting for its callback.
PENDING_SESSION_KEY = "intake_oauth_pending"


def admin_only(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


@bp.get("/providers")
@admin_only
def providers():
    rows = provider_service.list_providers()
    accounts = db.session.scalars(select(MailAccount).where(MailAccount.auth_method == AuthMethod.OAUTH2.value)
                                  .order_by(MailAccount.name)).all()
    return render_template("oauth/providers.html", providers=[provider_service.describe_provider(r) for r in rows],
                           accounts=[describe(a) for a in accounts], warnings=provider_warnings(),
                           redirect_uri=provider_service.redirect_uri())


@bp.get("/accounts/<int:account_id>")
@admin_only
def account(account_id: int):
    mail_account = _oauth_account(account_id)
    response = make_response(render_template("oauth/account.html", account=mail_account, entry=describe(mail_account),
                                             redirect_uri=provider_service.redirect_uri()))
    origin = _authorize_origin(mail_account)
    if origin and CSP:  # the Authorize form's POST is answered by a redirect to the provider: let CSP allow it
        response.headers["Content-Security-Policy"] = CSP.replace("form-action 'self'", f"form-action 'self' {origin}")
    return response


@bp.post("/accounts/<int:account_id>/authorize")
@admin_only
def authorize(account_id: int):
    mail_account = _oauth_account(account_id)
    try:
        url, pending = start_authorization(mail_account)
    except IntakeError as exc:
        return render_template("oauth/result.html", account=mail_account, error=str(exc)), 400
    session[PENDING_SESSION_KEY] = pending.seal()
    return redirect(url)


@bp.get("/callback")
@admin_only
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

