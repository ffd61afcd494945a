"""The transport plugin contract, its errors, and the registry (entry points).

A transport moves raw messages between a mail server and the core. It knows nothing
about tickets or the database. A third party implements :class:`Transport` in its own
distribution and registers it under the entry-point group ``intake.transports``; the
entry-point name is the protocol name an account stores.

A session is used like this by the collection run (``intake/fetching.py``)::

    with transport_class(settings, transcript) as session:   # connect (+ TLS)
        session.authenticate(credentials)
        refs = session.list_messages()                       # keys + sizes, cheap
        for ref, raw in session.fetch(batch): ...             # batched download
        session.remove(stored_refs)                           # only after commit
        session.finish()                                      # expunge / QUIT
"""
from __future__ import annotations

import abc
import ssl
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .registry import EntryPointRegistry

ENTRY_POINT_GROUP = "intake.transports"


# --- errors (one clear sentence each; the message is shown to administrators) ---
class TransportError(Exception):
    """Anything that went wrong talking to the mail server."""


class ConnectError(TransportError):
    """The server could not be reached, or TLS could not be established."""


class TLSVerifyError(ConnectError):
    """The server's certificate was not trusted."""


class AuthenticationError(TransportError):
    """The server refused the credentials."""


class TokenRejected(AuthenticationError):
    """The server refused an OAuth2 access token (the core may refresh once and retry)."""


class ProtocolError(TransportError):
    """The server answered something the transport could not use."""


class UnknownTransport(Exception):
    """No transport plugin is installed under that name."""


# --- data handed across the contract ---
@dataclass(frozen=True)
class TransportSettings:
    host: str
    port: int
    username: str
    folder: str = "INBOX"
    verify_tls: bool = True
    ca_file: str | None = None
    connect_timeout: float = 30
    read_timeout: float = 120

    def ssl_context(self) -> ssl.SSLContext:
        """Verified by default; turning verification off is the account's explicit choice."""
        context = ssl.create_default_context(cafile=self.ca_file or None)
        if not self.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


@dataclass(frozen=True)
class Credentials:
    """Either a password, or an OAuth2 access token and the SASL mechanism to send it with."""

    username: str
    password: str | None = None
    access_token: str | None = None
    sasl_mechanism: str = "XOAUTH2"  # or OAUTHBEARER

    def __repr__(self) -> str:  # never show secrets
        return f"Credentials(username={self.username!r}, secret=<redacted>, mechanism={self.sasl_mechanism})"


@dataclass(frozen=True)
class MessageRef:
    """A message on the server: its stable dedup key, its size, and the transport's handle."""

    key: str  # stable across sessions: "uid:UIDVALIDITY:UID" or "uidl:UIDL"
    size: int
    handle: Any = field(default=None, compare=False)  # IMAP UID, POP3 message number


@dataclass(frozen=True)
class MessageSummary:
    """A header-level view of a message, for browsing a mailbox without collecting it."""

    key: str
    size: int
    subject: str = ""
    sender: str = ""
    date: str = ""


class Transcript:
    """Collects the protocol dialogue with secrets redacted (for `intake check` and the admin's Test button)."""

    MAX_LINE = 300

    def __init__(self) -> None:
        self.lines: list[str] = []

    def client(self, line: str) -> None:
        self.lines.append("C: " + line[: self.MAX_LINE])

    def server(self, line: str) -> None:
        self.lines.append("S: " + line[: self.MAX_LINE])

    def note(self, line: str) -> None:
        self.lines.append("-- " + line)


# --- the contract ---
class Transport(abc.ABC):
    #: the entry-point name
    name: ClassVar[str]
    #: the port used when the account leaves it empty
    default_port: ClassVar[int]

    def __init__(self, settings: TransportSettings, transcript: Transcript | None = None):
        self.settings = settings
        self.transcript = transcript

    def __enter__(self) -> "Transport":
        self.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @abc.abstractmethod
    def open(self) -> None:
        """Connect (and negotiate TLS). Raises ConnectError / TLSVerifyError."""

    @abc.abstractmethod
    def authenticate(self, credentials: Credentials) -> None:
        """Log in with a password or SASL XOAUTH2/OAUTHBEARER. Raises AuthenticationError / TokenRejected."""

    @abc.abstractmethod
    def list_messages(self) -> list[MessageRef]:
        """Every message in the mailbox (folder), oldest first, with key and size; no bodies."""

    @abc.abstractmethod
    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        """Download these messages in as few round trips as the protocol allows, without marking them read."""

    @abc.abstractmethod
    def remove(self, refs: Iterable[MessageRef]) -> None:
        """Mark messages for deletion. Called only after they are stored and committed."""

    def mark_collected(self, refs: Iterable[MessageRef]) -> None:
        """Keep-on-server mode: optionally flag messages (IMAP sets \\Seen). Default: nothing."""

    @abc.abstractmethod
    def finish(self) -> None:
        """Make removals permanent (IMAP EXPUNGE, POP3 QUIT) and end the session cleanly."""

    @abc.abstractmethod
    def close(self) -> None:
        """Drop the connection without committing anything further. Must not raise."""

    def list_folders(self) -> list[str]:
        """Folders of the mailbox; protocols without folders return ["INBOX"]."""
        return ["INBOX"]

    def browse(self, limit: int = 50) -> list[MessageSummary]:
        """The newest messages' headers, without collecting or flagging anything."""
        return [MessageSummary(key=ref.key, size=ref.size) for ref in self.list_messages()[-limit:]]


# --- registry ---
_registry = EntryPointRegistry(ENTRY_POINT_GROUP, Transport, UnknownTransport, "transport plugin named")
available_transports = _registry.all
reset_registry = _registry.reset
get_transport = _registry.get
