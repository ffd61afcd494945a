"""The mail-account form: which fields it has, how they are read, and what the protocols offer.

Values go through intake.accounts.apply_settings, the one place account settings are
validated; this module only turns form fields into the strings it accepts.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..models.account import (DEFAULT_CONNECT_TIMEOUT, DEFAULT_INTERVAL_SECONDS, DEFAULT_MAX_MESSAGE_SIZE,
                              DEFAULT_MAX_MESSAGES_PER_RUN, DEFAULT_READ_TIMEOUT)
from ..transport import Transport, available_transports

TEXT_FIELDS = ("name", "email", "protocol", "host", "port", "username", "auth_method", "oauth_provider", "oauth_grant",
               "sasl_mechanism", "folder", "ca_file",
               "connect_timeout", "read_timeout", "dispatch", "queue", "validity", "interval_seconds",
               "max_messages_per_run", "max_message_size", "worker_queue", "comment")
CHECKBOXES = ("verify_tls", "trusted", "enabled", "keep_on_server")

NEW_ACCOUNT = {
    "protocol": "imaps", "auth_method": "password", "folder": "INBOX", "verify_tls": True, "enabled": True,
    "dispatch": "to", "validity": "valid", "trusted": False, "keep_on_server": False,
    "connect_timeout": DEFAULT_CONNECT_TIMEOUT, "read_timeout": DEFAULT_READ_TIMEOUT,
    "interval_seconds": DEFAULT_INTERVAL_SECONDS, "max_messages_per_run": DEFAULT_MAX_MESSAGES_PER_RUN,
    "max_message_size": DEFAULT_MAX_MESSAGE_SIZE,
}

_KNOWN = {  # name -> (label, uses TLS)
    "imaps": ("IMAP over TLS (IMAPS)", True), "imaptls": ("IMAP with STARTTLS", True),
    "imap": ("IMAP, unencrypted", False), "pop3s": ("POP3 over TLS (POP3S)", True),
    "pop3tls": ("POP3 with STLS", True), "pop3": ("POP3, unencrypted", False),
}


@dataclass(frozen=True)
class ProtocolChoice:
    name: str
    label: str
    default_port: int
    tls: bool
    folders: bool  # the transport lists folders (IMAP): the form asks for one


def protocol_choices() -> list[ProtocolChoice]:
    choices = []
    for name, cls in sorted(available_transports().items(), key=lambda item: (item[0] not in _KNOWN, item[0])):
        label, tls = _KNOWN.get(name, (name.upper(), True))
        folders = cls.list_folders is not Transport.list_folders
        choices.append(ProtocolChoice(name, label, cls.default_port, tls, folders))
    return choices


def read_form(form) -> dict:
    """Form → the values apply_settings takes. An empty password means "unchanged" and is left out."""
    values = {field: form.get(field, "").strip() for field in TEXT_FIELDS if field in form}
    if values.get("auth_method", "password") != "oauth2":  # the OAuth fields are hidden then
        for field in ("oauth_provider", "oauth_grant", "sasl_mechanism"):
            values.pop(field, None)
    if "comment" in form:
        values["comment"] = form.get("comment", "")
    for field in CHECKBOXES:
        values[field] = form.get(field) == "on"
    if form.get("password"):
        values["password"] = form["password"]
    return values


def snapshot(account) -> dict:
    """The account's settings as the form shows them (never the password)."""
    data = {field: getattr(account, field) for field in TEXT_FIELDS if field not in ("queue", "oauth_provider")}
    data.update({field: getattr(account, field) for field in CHECKBOXES})
    data["queue"] = account.queue.name if account.queue else ""
    data["oauth_provider"] = account.oauth_provider.name if account.oauth_provider else ""
    data["password_set"] = bool(account.password)
    return data
