"""Errors shown to people: each message is one sentence that says what to fix."""


class IntakeError(Exception):
    """Base of every error the console and web UI show as a plain message."""


class ValidationError(IntakeError):
    """A setting was refused."""


class NotFound(IntakeError):
    """No such account, queue, ticket, user…"""


class AccountNotCollectable(IntakeError):
    """The account may not be collected now (validity, disabled)."""
