"""Secrets at rest: Fernet encryption and a column type that applies it.

The key comes from ENCRYPTION_KEY (several comma-separated keys allow rotation: the
first encrypts, all decrypt). Values are never logged; ``repr`` of models hides them.
"""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app, has_app_context
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

from .errors import IntakeError


class SecretKeyError(IntakeError):
    """The encryption key is missing, malformed, or does not decrypt stored secrets."""


def configure_app(app: Flask) -> None:
    app.extensions["intake_fernet"] = make_fernet(app.config["ENCRYPTION_KEY"])


def make_fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.strip().encode()) for k in str(keys).split(",") if k.strip()])
    except (ValueError, TypeError) as exc:
        raise SecretKeyError(
            "INTAKE_ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64 bytes); "
            "generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from exc


def _fernet() -> MultiFernet:
    if not has_app_context() or "intake_fernet" not in current_app.extensions:
        raise SecretKeyError("secrets can only be read or written inside the Intake application")
    return current_app.extensions["intake_fernet"]


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretKeyError("a stored secret cannot be decrypted with INTAKE_ENCRYPTION_KEY (was the key changed?)") from exc


class EncryptedText(TypeDecorator):
    """A string column stored Fernet-encrypted; Python sees the plain value."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)
