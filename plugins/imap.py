"""IMAP transports: IMAP (plain), IMAPS (implicit TLS), IMAPTLS (STARTTLS).

The variants differ only in how the connection is opened. Messages are listed with
one ``UID FETCH 1:* (RFC822.SIZE)`` and downloaded with one ``UID FETCH uid,uid,…
(BODY.PEEK[])`` per batch, so reading never sets \\Seen; the key of a message is
``uid:UIDVALIDITY:UID``.
"""
from __future__ import annotations

import imaplib
import re
from collections.abc import Iterable, Iterator, Sequence

from intake.transport import (
    AuthenticationError,
    ConnectError,
    Credentials,
    MessageRef,
    MessageSummary,
    ProtocolError,
    TokenRejected,
    Transport,
)

from ._common import connect_errors, imap_utf7_encode, sasl_initial_response

_FETCH_UID = re.compile(rb"UID (\d+)")
_FETCH_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_LIST_NAME = re.compile(rb'\((?P<flags>[^)]*)\) (?P<delim>"[^"]*"|NIL) (?P<name>.+)$')
_LOGIN = re.compile(rb"^(\S+ LOGIN \S+) .*", re.IGNORECASE | re.DOTALL)


class _Recording:
    """Mixin for imaplib classes: writes the dialogue into a Transcript, secrets redacted."""

    _transcript = None
    _redact_next = False

    def send(self, data: bytes) -> None:
        if self._transcript is not None and data != b"\r\n":
            if self._redact_next and not data.startswith(self.tagpre):  # a SASL response, not the command
                self._transcript.client("<redacted SASL response>")
            else:
                self._transcript.client(_LOGIN.sub(rb"\1 <redacted>", data).decode("ascii", "replace").rstrip())
        super().send(data)  # type: ignore[misc]

    def readline(self) -> bytes:
        line = super().readline()  # type: ignore[misc]
        if self._transcript is not None:
            self._transcript.server(line.decode("utf-8", "replace").rstrip())
        return line


class _IMAP4(_Recording, imaplib.IMAP4):
    def __init__(self, host, port, timeout, transcript):
        self._transcript = transcript
        super().__init__(host, port, timeout=timeout)


class _IMAP4SSL(_Recording, imaplib.IMAP4_SSL):
    def __init__(self, host, port, timeout, transcript, context):
        self._transcript = transcript
        super().__init__(host, port, ssl_context=context, timeout=timeout)


class IMAP(Transport):
    name = "imap"
    default_port = 143

    conn: imaplib.IMAP4 | None = None
    uidvalidity: str = ""
    _removed: list[str]

    # -- opening: the only part the TLS variants change --
    def _connect(self) -> imaplib.IMAP4:
        s = self.settings
        return _IMAP4(s.host, s.port, s.connect_timeout, self.transcript)

    def open(self) -> None:
        self._removed = []
        with connect_errors(self.settings):
            self.conn = self._connect()
            self.conn.sock.settimeout(self.settings.read_timeout)

    # -- session --
    def authenticate(self, credentials: Credentials) -> None:
        conn = self._require()
        try:
            if credentials.access_token:
                self._authenticate_sasl(conn, credentials)
            else:
                conn.login(credentials.username, credentials.password or "")
        except imaplib.IMAP4.error as exc:
            raise AuthenticationError(f"the IMAP server refused the login: {_text(exc)}") from None
        finally:
            conn._redact_next = False
        self._select()

    def _authenticate_sasl(self, conn, credentials: Credentials) -> None:
        mechanism = credentials.sasl_mechanism.upper()
        payload = sasl_initial_response(mechanism, credentials, self.settings)
        answers = iter([payload])
        conn._redact_next = True
        try:
            # After a rejected token the server sends a JSON error challenge; the
            # client must answer it with an empty response before the final NO.
            conn.authenticate(mechanism, lambda _challenge: next(answers, b""))
        except imaplib.IMAP4.error as exc:
            if f"AUTH={mechanism}" not in conn.capabilities:  # not a token problem: refreshing would not help
                offered = " ".join(c[5:] for c in conn.capabilities if c.startswith("AUTH=")) or "none"
                raise AuthenticationError(f"the IMAP server does not offer SASL {mechanism} (it offers: {offered}): "
                                          f"{_text(exc)}") from None
            raise TokenRejected(f"the IMAP server rejected the OAuth2 access token: {_text(exc)}") from None

    def _select(self) -> None:
        conn = self._require()
        folder = imap_utf7_encode(self.settings.folder)
        typ, data = conn.select(_quote(folder))
        if typ != "OK":
            raise ProtocolError(f"the IMAP folder {self.settings.folder!r} cannot be opened: {_text(data)}")
        validity = conn.untagged_responses.get("UIDVALIDITY", [b"0"])[-1]
        self.uidvalidity = validity.decode() if isinstance(validity, bytes) else str(validity)
        self.exists = int(data[0] or 0)

    def list_messages(self) -> list[MessageRef]:
        if not self.exists:
            return []
        typ, data = self._require().uid("FETCH", "1:*", "(RFC822.SIZE)")
        self._check(typ, data, "list messages")
        refs = []
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not line:
                continue
            uid, size = _FETCH_UID.search(line), _FETCH_SIZE.search(line)
            if uid and size:
                refs.append(self._ref(uid.group(1).decode(), int(size.group(1))))
        refs.sort(key=lambda ref: int(ref.handle))
        return refs

    def _ref(self, uid: str, size: int) -> MessageRef:
        return MessageRef(key=f"uid:{self.uidvalidity}:{uid}", size=size, handle=uid)

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        if not refs:
            return
        wanted = {ref.handle: ref for ref in refs}
        typ, data = self._require().uid("FETCH", ",".join(wanted), "(BODY.PEEK[])")
        self._check(typ, data, "fetch messages")
        for index, item in enumerate(data):
            if not isinstance(item, tuple):
                continue
            head, body = item
            uid = _FETCH_UID.search(head)
            if uid is None and index + 1 < len(data) and isinstance(data[index + 1], bytes):
                uid = _FETCH_UID.search(data[index + 1])  # UID after the literal
            ref = wanted.pop(uid.group(1).decode(), None) if uid else None
            if ref is not None:
                yield ref, body

    def remove(self, refs: Iterable[MessageRef]) -> None:
        uids = [ref.handle for ref in refs]
        if uids:
            self._store(uids, r"+FLAGS.SILENT (\Deleted)")
            self._removed.extend(uids)

    def mark_collected(self, refs: Iterable[MessageRef]) -> None:
        uids = [ref.handle for ref in refs]
        if uids:
            self._store(uids, r"+FLAGS.SILENT (\Seen)")

    def _store(self, uids: list[str], flags: str) -> None:
        conn = self._require()
        typ, data = conn.uid("STORE", ",".join(uids), *flags.split(" ", 1))
        self._check(typ, data, "flag messages")

    def finish(self) -> None:
        conn = self._require()
        if self._removed:
            if "UIDPLUS" in conn.capabilities:
                typ, data = conn.uid("EXPUNGE", ",".join(self._removed))
            else:
                typ, data = conn.expunge()
            self._check(typ, data, "expunge")
            self._removed = []
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
        self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.shutdown()  # no CLOSE: that would expunge
            except OSError:
                pass
            self.conn = None

    def list_folders(self) -> list[str]:
        typ, data = self._require().list()
        self._check(typ, data, "list folders")
        names = []
        for line in data:
            match = _LIST_NAME.match(line) if isinstance(line, bytes) else None
            if match:
                names.append(match.group("name").decode("utf-8", "replace").strip('"'))
        return names

    def browse(self, limit: int = 50) -> list[MessageSummary]:
        refs = self.list_messages()[-limit:]
        if not refs:
            return []
        typ, data = self._require().uid(
            "FETCH", ",".join(r.handle for r in refs), "(RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT FROM DATE)])"
        )
        self._check(typ, data, "browse")
        from email.parser import BytesHeaderParser
        from email.policy import default

        by_uid = {r.handle: r for r in refs}
        summaries = []
        for item in data:
            if isinstance(item, tuple):
                uid = _FETCH_UID.search(item[0])
                ref = by_uid.get(uid.group(1).decode()) if uid else None
                if ref:
                    headers = BytesHeaderParser(policy=default).parsebytes(item[1])
                    summaries.append(MessageSummary(ref.key, ref.size, str(headers.get("Subject", "")),
                                                    str(headers.get("From", "")), str(headers.get("Date", ""))))
        return summaries

    # -- helpers --
    def _require(self) -> imaplib.IMAP4:
        if self.conn is None:
            raise ProtocolError("the IMAP session is not open")
        return self.conn

    @staticmethod
    def _check(typ: str, data, what: str) -> None:
        if typ != "OK":
            raise ProtocolError(f"the IMAP server refused to {what}: {_text(data)}")


class IMAPS(IMAP):
    """IMAP over implicit TLS (port 993)."""

    name = "imaps"
    default_port = 993

    def _connect(self) -> imaplib.IMAP4:
        s = self.settings
        return _IMAP4SSL(s.host, s.port, s.connect_timeout, self.transcript, s.ssl_context())


class IMAPTLS(IMAP):
    """IMAP upgraded with STARTTLS on the plain port (143); refuses to go on without it."""

    name = "imaptls"
    default_port = 143

    def _connect(self) -> imaplib.IMAP4:
        conn = super()._connect()
        try:
            conn.starttls(ssl_context=self.settings.ssl_context())
        except imaplib.IMAP4.error as exc:  # TLS errors propagate to connect_errors()
            raise ConnectError(f"the IMAP server did not accept STARTTLS: {_text(exc)}") from None
        return conn


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(value) -> str:
    if isinstance(value, (list, tuple)):
        value = b" ".join(v if isinstance(v, bytes) else str(v).encode() for v in value if v)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip()


__all__ = ["IMAP", "IMAPS", "IMAPTLS"]
