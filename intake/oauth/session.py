"""Authenticating a transport session with OAuth2: refresh once and retry once on rejection.

Used by the collection run (intake/fetching.py) and `intake check` (intake/cli/collect.py).
The transport never refreshes; when the server refuses the token, the core asks the
token service for a new one (under the refresh lock), opens a new connection and
tries once more. A second refusal is reported, not retried.
"""
from __future__ import annotations

from ..models import AuthMethod, MailAccount
from ..transport import Credentials, TokenRejected, Transport
from .tokens import credentials_for


def authenticate(session: Transport, account: MailAccount, credentials: Credentials) -> None:
    try:
        session.authenticate(credentials)
        return
    except TokenRejected:
        if account.auth_method != AuthMethod.OAUTH2.value:
            raise
    fresh = credentials_for(account, rejected=credentials)
    session.close()
    session.open()
    try:
        session.authenticate(fresh)
    except TokenRejected as exc:
        raise TokenRejected(
            f"{exc} (also with a freshly refreshed token: check that {fresh.username} is the mailbox the "
            f"provider authorized, and that the app is allowed IMAP/POP3 access to it)"
        ) from None
