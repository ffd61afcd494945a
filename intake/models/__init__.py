"""SQLAlchemy models, one module per aggregate."""
from .account import AuthMethod, Dispatch, MailAccount, Validity
from .audit import AuditEntry, LoginFailure
from .collection import AccountLock, CollectedMessage, CollectionRun, FailedMessage
from .oauth import (OAuthAccessToken, OAuthGrant, OAuthProviderConfig, OAuthRefreshLock, OAuthRefreshToken,
                    OAuthStatus, SaslMechanism)
from .queue import Queue, SystemAddress
from .rules import AutoAnswer, FilterRule
from .ticket import Article, Attachment, RawMessage, Ticket, TicketCounter, TicketState
from .user import User, user_queue_grants
from ._common import utcnow

__all__ = [
    "AccountLock", "Article", "AuditEntry", "LoginFailure", "Attachment", "AuthMethod", "CollectedMessage", "CollectionRun",
    "Dispatch", "FailedMessage", "MailAccount", "Queue", "RawMessage", "SystemAddress", "Ticket",
    "TicketCounter", "TicketState", "User", "Validity", "user_queue_grants", "utcnow",
    "OAuthAccessToken", "OAuthGrant", "OAuthProviderConfig", "OAuthRefreshLock", "OAuthRefreshToken",
    "OAuthStatus", "SaslMechanism", "AutoAnswer", "FilterRule",
]
