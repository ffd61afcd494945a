"""Mail account settings: validation, and what an account hands to its transport.

The console and the web UI both create and change accounts through
:func:`apply_settings`, so a wrong setting is refused the same way everywhere,
with a message that says what to fix.
"""
from __future__ import annotations

import os

from sqlalchemy import select

from .errors import NotFound, ValidationError
from .extensions import db
from .models import AuthMethod, Dispatch, MailAccount, Queue, Validity
from .transport import Credentials, TransportSettings, UnknownTransport, available_transports, get_transport

#: Settings an administrator may change, with how to read them from text.
FIELDS = {
    "name": str, "email": str, "protocol": str, "host": str, "port": "port", "username": str,
    "password": "secret", "auth_method": str, "folder": str, "verify_tls": bool, "ca_file": "optional",
    "connect_timeout": int, "read_timeout": int, "trusted": bool, "dispatch": str, "queue": "queue",
    "validity": str, "enabled": bool, "interval_seconds": int, "keep_on_server": bool,
    "max_messages_per_run": int, "max_message_size": int, "worker_queue": "optional", "comment": str,
    # OAuth2 (auth_method "oauth2"); checked by intake.oauth.config.check_account
    "oauth_provider": "oauth_provider", "oauth_grant": "optional", "sasl_mechanism": "upper",
}
MIN_INTERVAL_SECONDS = 30
SECRET_FIELDS = {"password"}
#: Fields that hold a related row (compared by identity).
RELATION_FIELDS = {"queue", "oauth_provider"}


def find_account(ref: str | int) -> MailAccount:
    """An account by id or by name."""
    account = None
    if isinstance(ref, int) or str(ref).isdigit():
        account = db.session.get(MailAccount, int(ref))
    if account is None:
        account = db.session.scalar(select(MailAccount).where(MailAccount.name == str(ref)))
    if account is None:
        raise NotFound(f"no mail account {ref!r} (see `intake accounts list`)")
    return account


def apply_settings(account: MailAccount, values: dict) -> list[str]:
    """Set and validate fields; returns the names of the fields that changed. No commit."""
    changed = []
    for field, raw in values.items():
        if field not in FIELDS:
            raise ValidationError(f"unknown account setting {field!r}; settings are: {', '.join(FIELDS)}")
        value = _convert(field, FIELDS[field], raw)
        if field in RELATION_FIELDS:
            if getattr(account, field, None) is not value:
                setattr(account, field, value)
                changed.append(field)
            continue
        if getattr(account, field) != value:
            setattr(account, field, value)
            changed.append(field)
    validate(account)
    if account.id is not None and {"auth_method", "oauth_provider", "oauth_grant"} & set(changed):
        from .oauth import clear_tokens

        clear_tokens([account])  # tokens from another provider or grant are of no use any more
    return changed


def validate(account: MailAccount) -> None:
    if not (account.name or "").strip():
        raise ValidationError("the account needs a name")
    try:
        get_transport(account.protocol)
    except UnknownTransport:
        names = ", ".join(sorted(available_transports()))
        raise ValidationError(f"protocol {account.protocol!r} is not installed; choose one of: {names}") from None
    if not (account.host or "").strip():
        raise ValidationError("the account needs a host name")
    if account.port is not None and not 1 <= account.port <= 65535:
        raise ValidationError(f"port {account.port} is out of range; use 1-65535, or leave it empty for the default")
    if not (account.username or "").strip():
        raise ValidationError("the account needs a username")
    _one_of("auth_method", account.auth_method or AuthMethod.PASSWORD.value, AuthMethod)
    _one_of("validity", account.validity or Validity.VALID.value, Validity)
    _one_of("dispatch", account.dispatch or Dispatch.BY_ADDRESS.value, Dispatch)
    if account.dispatch == Dispatch.FIXED_QUEUE.value and account.queue is None:
        raise ValidationError("dispatch 'queue' needs a queue: give --queue NAME")
    if account.ca_file and not os.path.isfile(account.ca_file):
        raise ValidationError(f"the CA file {account.ca_file} does not exist (give the path of a PEM file)")
    if account.interval_seconds is not None and account.interval_seconds < MIN_INTERVAL_SECONDS:
        raise ValidationError(f"the polling interval must be at least {MIN_INTERVAL_SECONDS} seconds")
    for field in ("connect_timeout", "read_timeout", "max_messages_per_run", "max_message_size"):
        value = getattr(account, field)
        if value is not None and value <= 0:
            raise ValidationError(f"{field} must be a positive number")
    if not (account.folder or "").strip():
        raise ValidationError("the IMAP folder must not be empty (the usual one is INBOX)")
    from .oauth.config import check_account  # OAuth2 provider, grant, SASL mechanism

    check_account(account)


def transport_settings(account: MailAccount) -> TransportSettings:
    cls = get_transport(account.protocol)
    return TransportSettings(
        host=account.host, port=account.port or cls.default_port, username=account.username,
        folder=account.folder or "INBOX", verify_tls=account.verify_tls, ca_file=account.ca_file,
        connect_timeout=account.connect_timeout, read_timeout=account.read_timeout,
    )


def credentials(account: MailAccount) -> Credentials:
    if account.auth_method == AuthMethod.OAUTH2.value:
        from . import oauth  # the OAuth2 token service (issue 4)

        return oauth.credentials_for(account)
    if not account.password:
        raise ValidationError(f"account {account.name} has no password set")
    return Credentials(username=account.username, password=account.password)


def describe(account: MailAccount) -> dict:
    """A JSON-able view of the settings and state. Secrets appear only as set / not set."""
    cls = available_transports().get(account.protocol)
    data = {"id": account.id}
    for field in FIELDS:
        if field in SECRET_FIELDS:
            data["password_set"] = bool(account.password)
        elif field in RELATION_FIELDS:
            related = getattr(account, field)
            data[field] = related.name if related else None
        else:
            data[field] = getattr(account, field)
    data["effective_port"] = account.port or (cls.default_port if cls else None)
    for field in ("last_run_at", "last_success_at", "next_run_at", "pending_since"):
        value = getattr(account, field)
        data[field] = value.isoformat() + "Z" if value else None
    data["oauth_status"] = account.oauth_status
    data["oauth_error"] = account.oauth_error
    data["consecutive_failures"] = account.consecutive_failures
    data["last_error"] = account.last_error
    data["messages_collected"] = account.messages_collected
    return data


def _convert(field: str, kind, raw):
    if raw is None or kind is str:
        return raw
    if kind == "secret":
        return raw or None
    if kind == "optional":
        return raw or None
    if kind == "upper":
        return str(raw).strip().upper() or None
    if kind == "oauth_provider":
        if raw in ("", None):
            return None
        from .models import OAuthProviderConfig

        if isinstance(raw, OAuthProviderConfig):
            return raw
        from .oauth.config import find_provider

        try:
            return find_provider(raw)
        except NotFound:
            raise ValidationError(f"there is no OAuth2 provider {raw!r}; add it with "
                                  f"`intake oauth providers add {raw} --kind …`") from None
    if kind == "port":
        if raw in ("", None):
            return None
        return _int(field, raw)
    if kind is int:
        return _int(field, raw)
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "yes", "true", "on"):
            return True
        if text in ("0", "no", "false", "off"):
            return False
        raise ValidationError(f"{field} must be yes or no, not {raw!r}")
    if kind == "queue":
        if raw in ("", None):
            return None
        if isinstance(raw, Queue):
            return raw
        queue = db.session.scalar(select(Queue).where(Queue.name == str(raw)))
        if queue is None:
            raise ValidationError(f"there is no queue {raw!r}; create it with `intake queues add {raw}`")
        return queue
    raise AssertionError(kind)


def _int(field: str, raw) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValidationError(f"{field} must be a whole number, not {raw!r}") from None


def _one_of(field: str, value: str, enum_cls) -> None:
    allowed = [member.value for member in enum_cls]
    if value not in allowed:
        raise ValidationError(f"{field} must be one of {', '.join(allowed)}, not {value!r}")
