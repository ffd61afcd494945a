"""POP3 transports: POP3 (plain), POP3S (implicit TLS), POP3TLS (STLS).

The variants differ only in how the connection is opened. A message's key is
``uidl:UIDL``. When the server offers PIPELINING (RFC 2449), a batch of RETR (and
DELE) commands is written at once and the answers read back in order.
Deletions become permanent only with QUIT in :meth:`POP3.finish`; a dropped
connection deletes nothing.
"""
from __future__ import annotations

import poplib
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

from ._common import b64, connect_errors, sasl_initial_response

# poplib refuses lines longer than this; real mail sometimes has them.
poplib._MAXLINE = max(poplib._MAXLINE, 1 << 20)
#: RFC 5034 §4: the longest AUTH command that may carry the initial response.
MAX_AUTH_COMMAND_OCTETS = 255


class _Recording:
    """Mixin for poplib classes: writes the dialogue into a Transcript, secrets redacted."""

    _transcript = None
    _quiet = False  # True while message bodies stream by

    def _putline(self, line: bytes) -> None:
        if self._transcript is not None:
            text = line.decode("ascii", "replace")
            if text.upper().startswith("PASS "):
                text = "PASS <redacted>"
            elif text.upper().startswith("AUTH ") and text.count(" ") >= 2:
                text = " ".join(text.split(" ")[:2]) + " <redacted>"
            self._transcript.client(text)
        super()._putline(line)  # type: ignore[misc]

    def _putline_redacted(self, line: bytes) -> None:
        """A SASL response line: sent as is, shown redacted."""
        if self._transcript is not None:
            self._transcript.client("<redacted SASL response>")
        super()._putline(line)  # type: ignore[misc]

    def _getline(self):
        line, octets = super()._getline()  # type: ignore[misc]
        if self._transcript is not None and not self._quiet:
            self._transcript.server(line.decode("utf-8", "replace"))
        return line, octets


class _POP3(_Recording, poplib.POP3):
    def __init__(self, host, port, timeout, transcript):
        self._transcript = transcript
        super().__init__(host, port, timeout=timeout)


class _POP3SSL(_Recording, poplib.POP3_SSL):
    def __init__(self, host, port, timeout, transcript, context):
        self._transcript = transcript
        super().__init__(host, port, timeout=timeout, context=context)


class POP3(Transport):
    name = "pop3"
    default_port = 110

    conn: poplib.POP3 | None = None

    def _connect(self) -> poplib.POP3:
        s = self.settings
        return _POP3(s.host, s.port, s.connect_timeout, self.transcript)

    def open(self) -> None:
        with connect_errors(self.settings):
            self.conn = self._connect()
            self.conn.sock.settimeout(self.settings.read_timeout)
        try:
            self.capabilities = self.conn.capa()
        except poplib.error_proto:
            self.capabilities = {}

    @property
    def pipelining(self) -> bool:
        return "PIPELINING" in self.capabilities

    def authenticate(self, credentials: Credentials) -> None:
        conn = self._require()
        if credentials.access_token:
            return self._authenticate_sasl(conn, credentials)
        try:
            conn.user(credentials.username)
            conn.pass_(credentials.password or "")
        except poplib.error_proto as exc:
            raise AuthenticationError(f"the POP3 server refused the login: {_text(exc)}") from None

    def _authenticate_sasl(self, conn: poplib.POP3, credentials: Credentials) -> None:
        mechanism = credentials.sasl_mechanism.upper()
        payload = b64(sasl_initial_response(mechanism, credentials, self.settings))
        # poplib has no AUTH helper, and its _shortcmd would take a "+ challenge" for "+OK".
        # RFC 5034 §4: an initial response that makes the command longer than 255 octets
        # is sent after the server's "+ " instead (always the case with real tokens).
        command = f"AUTH {mechanism} {payload}"
        if len(command) > MAX_AUTH_COMMAND_OCTETS:
            conn._putcmd(f"AUTH {mechanism}")
            line, _ = conn._getline()
            if _is_continuation(line):
                conn._putline_redacted(payload.encode("ascii"))
                line, _ = conn._getline()
        else:
            conn._putcmd(command)
            line, _ = conn._getline()
        if _is_continuation(line):
            conn._putcmd("")  # answer the error challenge with an empty response
            line, _ = conn._getline()
        if not line.startswith(b"+OK"):
            offered = self.capabilities.get("SASL")
            if offered is not None and mechanism not in offered:  # not a token problem: refreshing would not help
                raise AuthenticationError(f"the POP3 server does not offer SASL {mechanism} (it offers: "
                                          f"{' '.join(offered) or 'none'}): {_text(line)}")
            raise TokenRejected(f"the POP3 server rejected the OAuth2 access token: {_text(line)}")

    def list_messages(self) -> list[MessageRef]:
        conn = self._require()
        try:
            _, uidl_lines, _ = conn.uidl()
            _, size_lines, _ = conn.list()
        except poplib.error_proto as exc:
            raise ProtocolError(f"the POP3 server refused to list messages: {_text(exc)}") from None
        sizes = dict(line.split()[:2] for line in size_lines)
        refs = []
        for line in uidl_lines:
            number, uidl = line.split()[:2]
            refs.append(MessageRef(key="uidl:" + uidl.decode("ascii", "replace"),
                                   size=int(sizes.get(number, 0)), handle=int(number)))
        return refs

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        conn = self._require()
        conn._quiet = True
        try:
            if self.pipelining:
                conn.sock.sendall(b"".join(b"RETR %d\r\n" % ref.handle for ref in refs))
                for ref in refs:
                    yield ref, self._read_message(conn, ref)
            else:
                for ref in refs:
                    conn._putcmd(f"RETR {ref.handle}")
                    yield ref, self._read_message(conn, ref)
        finally:
            conn._quiet = False

    @staticmethod
    def _read_message(conn: poplib.POP3, ref: MessageRef) -> bytes:
        try:
            _, lines, _ = conn._getlongresp()
        except poplib.error_proto as exc:
            raise ProtocolError(f"the POP3 server refused RETR {ref.handle}: {_text(exc)}") from None
        return b"\r\n".join(lines) + b"\r\n"

    def remove(self, refs: Iterable[MessageRef]) -> None:
        conn = self._require()
        numbers = [ref.handle for ref in refs]
        if self.pipelining and numbers:
            conn.sock.sendall(b"".join(b"DELE %d\r\n" % n for n in numbers))
            answers = [conn._getresp() for _ in numbers]
        else:
            answers = [conn.dele(n) for n in numbers]
        del answers  # _getresp raises on -ERR

    def finish(self) -> None:
        conn = self._require()
        try:
            conn.quit()  # commits the deletions
        except poplib.error_proto as exc:
            raise ProtocolError(f"the POP3 server failed to commit deletions at QUIT: {_text(exc)}") from None
        finally:
            self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()  # no QUIT: nothing is deleted
            except OSError:
                pass
            self.conn = None

    def browse(self, limit: int = 50) -> list[MessageSummary]:
        from email.parser import BytesHeaderParser
        from email.policy import default

        conn = self._require()
        summaries = []
        for ref in self.list_messages()[-limit:]:
            _, lines, _ = conn.top(ref.handle, 0)
            headers = BytesHeaderParser(policy=default).parsebytes(b"\r\n".join(lines))
            summaries.append(MessageSummary(ref.key, ref.size, str(headers.get("Subject", "")),
                                            str(headers.get("From", "")), str(headers.get("Date", ""))))
        return summaries

    def _require(self) -> poplib.POP3:
        if self.conn is None:
            raise ProtocolError("the POP3 session is not open")
        return self.conn


class POP3S(POP3):
    """POP3 over implicit TLS (port 995)."""

    name = "pop3s"
    default_port = 995

    def _connect(self) -> poplib.POP3:
        s = self.settings
        return _POP3SSL(s.host, s.port, s.connect_timeout, self.transcript, s.ssl_context())


class POP3TLS(POP3):
    """POP3 upgraded with STLS on the plain port (110); refuses to go on without it."""

    name = "pop3tls"
    default_port = 110

    def _connect(self) -> poplib.POP3:
        conn = super()._connect()
        try:
            conn.stls(context=self.settings.ssl_context())
        except poplib.error_proto as exc:
            raise ConnectError(f"the POP3 server did not accept STLS: {_text(exc)}") from None
        return conn


def _is_continuation(line: bytes) -> bool:
    return line == b"+" or line.startswith(b"+ ")


def _text(value) -> str:
    if isinstance(value, Exception):
        value = value.args[0] if value.args else str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip()
