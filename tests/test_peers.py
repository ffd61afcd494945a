"""The real-server test peers work: Dovecot (IMAP/POP3, plain/implicit TLS/STARTTLS),
Redis and PostgreSQL, each a private process on 127.0.0.1.

These tests use their own module-scoped peers (not the session fixtures of
conftest.py), so they also run with ``--noconftest``.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import poplib
import re
import shutil
import socket
import ssl
import tempfile
import time
import uuid

import pytest

from tests.peers.certs import make_certificates
from tests.peers.dovecot import Dovecot, OAuth2Settings
from tests.peers.ports import free_port, port_is_open, wait_for_port
from tests.peers.postgres import PostgresCluster
from tests.peers.redis_server import RedisServer

pytestmark = pytest.mark.peers

TIMEOUT = 10  # seconds, for every client connection


def _msg(subject: str) -> bytes:
    return (
        f"From: Customer <customer@example.org>\r\nTo: support@example.com\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{uuid.uuid4().hex}@example.org>\r\n"
        f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nHello {subject}\r\n"
    ).encode()


# --------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def peer_certs():
    directory = tempfile.mkdtemp(prefix="ik-certs-", dir="/tmp")
    yield make_certificates(directory)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def tls(peer_certs) -> ssl.SSLContext:
    """A client context that trusts only the test CA (check_hostname on)."""
    ctx = ssl.create_default_context(cafile=str(peer_certs.ca_cert))
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    return ctx


@pytest.fixture(scope="module")
def wrong_tls(peer_certs) -> ssl.SSLContext:
    """A client context that trusts only an unrelated CA."""
    return ssl.create_default_context(cafile=str(peer_certs.other_ca_cert))


@pytest.fixture(scope="module")
def dovecot(peer_certs):
    with Dovecot({"alice": "alice-pw", "bob": "b:o b"}, certs=peer_certs) as server:
        yield server


@pytest.fixture(scope="module")
def dovecot_strict(peer_certs):
    with Dovecot({"carol": "carol-pw"}, certs=peer_certs, require_tls=True) as server:
        yield server


@pytest.fixture
def user(dovecot):
    """A fresh, empty mailbox on the plain-auth Dovecot."""
    name = f"u-{uuid.uuid4().hex[:8]}"
    dovecot.add_user(name, f"pw-{name}")
    return name, f"pw-{name}"


# ---------------------------------------------------------------------- clients
@contextlib.contextmanager
def imap(server, mode: str, ctx: ssl.SSLContext | None = None):
    """An unauthenticated IMAP client: mode 'plain', 'ssl' (IMAPS) or 'starttls'."""
    if mode == "ssl":
        client = imaplib.IMAP4_SSL(server.host, server.imaps_port, ssl_context=ctx, timeout=TIMEOUT)
    else:
        client = imaplib.IMAP4(server.host, server.imap_port, timeout=TIMEOUT)
    try:
        if mode == "starttls":
            client.starttls(ssl_context=ctx)
        yield client
    finally:
        try:
            client.logout()  # closes the socket too
        except Exception:  # noqa: BLE001 - connection already broken
            with contextlib.suppress(OSError):
                client.shutdown()


@contextlib.contextmanager
def pop3(server, mode: str, ctx: ssl.SSLContext | None = None):
    """An unauthenticated POP3 client: mode 'plain', 'ssl' (POP3S) or 'stls'."""
    if mode == "ssl":
        client = poplib.POP3_SSL(server.host, server.pop3s_port, context=ctx, timeout=TIMEOUT)
    else:
        client = poplib.POP3(server.host, server.pop3_port, timeout=TIMEOUT)
    try:
        if mode == "stls":
            client.stls(context=ctx)
        yield client
    finally:
        with contextlib.suppress(OSError):  # EBADF if a failed STLS closed it
            client.close()


def imap_count(server, user, password, mode="plain", ctx=None) -> int:
    with imap(server, mode, ctx) as client:
        client.login(user, password)
        typ, data = client.select("INBOX", readonly=True)
        assert typ == "OK"
        return int(data[0])


def pop3_count(server, user, password, mode="plain", ctx=None) -> int:
    with pop3(server, mode, ctx) as client:
        client.user(user)
        client.pass_(password)
        count, _size = client.stat()
        client.quit()
        return count


# ------------------------------------------------------------------ certificates
def test_certificate_verifies_for_ip_and_localhost(dovecot, tls):
    for server_hostname in ("127.0.0.1", "localhost"):
        with socket.create_connection((dovecot.host, dovecot.imaps_port), timeout=TIMEOUT) as raw:
            with tls.wrap_socket(raw, server_hostname=server_hostname) as conn:
                assert conn.getpeercert()["subjectAltName"] == (
                    ("DNS", "localhost"), ("IP Address", "127.0.0.1"), ("IP Address", "0:0:0:0:0:0:0:1"),
                )
                assert conn.recv(100).startswith(b"* OK")


# -------------------------------------------------------------------------- IMAP
@pytest.mark.parametrize("mode", ["plain", "ssl", "starttls"])
def test_imap_login_select_count(dovecot, tls, user, mode):
    name, password = user
    dovecot.deliver(name, [_msg("one"), _msg("two")])
    assert imap_count(dovecot, name, password, mode, tls) == 2


def test_imap_capabilities(dovecot, tls):
    with imap(dovecot, "plain") as client:
        # imaplib keeps the greeting's list after LOGIN, so UIDPLUS must be
        # advertised before login too (imap_capability = +UIDPLUS).
        assert "STARTTLS" in client.capabilities
        assert "UIDPLUS" in client.capabilities
    with imap(dovecot, "ssl", tls) as client:
        client.login("alice", "alice-pw")
        typ, data = client.capability()
        assert typ == "OK" and b"UIDPLUS" in data[0].split()


def test_imap_wrong_password_is_refused_quickly(dovecot):
    with imap(dovecot, "plain") as client:
        started = time.monotonic()
        for _ in range(2):  # a second try is not slowed by an anvil penalty either
            with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
                client.login("alice", "wrong")
        # 2.3.19 answers failures on its 500 ms failure-queue tick.
        assert time.monotonic() - started < 3


def test_passwords_with_odd_characters_and_case_insensitive_user(dovecot):
    assert imap_count(dovecot, "BOB", "b:o b") == 0


# -------------------------------------------------------------------------- POP3
@pytest.mark.parametrize("mode", ["plain", "ssl", "stls"])
def test_pop3_login_stat(dovecot, tls, user, mode):
    name, password = user
    dovecot.deliver(name, [_msg("one"), _msg("two"), _msg("three")])
    assert pop3_count(dovecot, name, password, mode, tls) == 3


def test_pop3_capa_and_uidl(dovecot, user):
    name, password = user
    dovecot.deliver(name, [_msg("a"), _msg("b")])
    with pop3(dovecot, "plain") as client:
        capa = client.capa()
        assert "PIPELINING" in capa and "STLS" in capa and "UIDL" in capa and "TOP" in capa
        client.user(name)
        client.pass_(password)
        _resp, listing, _octets = client.uidl()
        uidls = [line.split()[1].decode() for line in listing]
        # pop3_uidl_format = %08Xu%08Xv: 8 hex digits of UID, 8 of UIDVALIDITY
        # (Dovecot's %X prints lower-case hex).
        assert all(re.fullmatch(r"[0-9a-f]{16}", u) for u in uidls), uidls
        assert len(set(uidls)) == 2
        client.quit()
    with pop3(dovecot, "plain") as client:  # stable across sessions
        client.user(name)
        client.pass_(password)
        assert [line.split()[1].decode() for line in client.uidl()[1]] == uidls
        client.quit()


# ------------------------------------------------------------- wrong CA refused
@pytest.mark.parametrize("protocol, mode", [
    ("imap", "ssl"), ("imap", "starttls"), ("pop3", "ssl"), ("pop3", "stls"),
])
def test_unrelated_ca_is_refused(dovecot, wrong_tls, protocol, mode):
    connect = imap if protocol == "imap" else pop3
    with pytest.raises(ssl.SSLCertVerificationError):
        with connect(dovecot, mode, wrong_tls):
            pass


# ----------------------------------------------------------- require_tls (strict)
def test_strict_refuses_plaintext_imap_login_then_allows_it_after_starttls(dovecot_strict, tls):
    dovecot_strict.deliver("carol", [_msg("tls only")])
    with imap(dovecot_strict, "plain") as client:
        assert "STARTTLS" in client.capabilities
        with pytest.raises(imaplib.IMAP4.error, match="Plaintext authentication disallowed"):
            client.login("carol", "carol-pw")
        with pytest.raises(imaplib.IMAP4.error):
            client.authenticate("PLAIN", lambda _: b"\0carol\0carol-pw")
        assert client.state == "NONAUTH"
        client.starttls(ssl_context=tls)
        typ, _ = client.login("carol", "carol-pw")
        assert typ == "OK"
        assert int(client.select("INBOX", readonly=True)[1][0]) == 1
    assert imap_count(dovecot_strict, "carol", "carol-pw", "ssl", tls) == 1


def test_strict_refuses_plaintext_pop3_login_then_allows_it_after_stls(dovecot_strict, tls):
    dovecot_strict.deliver("carol", [_msg("tls only pop")])
    with pop3(dovecot_strict, "plain") as client:
        assert "STLS" in client.capa()
        client.user("carol")
        with pytest.raises(poplib.error_proto, match="Plaintext authentication disallowed"):
            client.pass_("carol-pw")
        client.stls(context=tls)
        client.user("carol")
        client.pass_("carol-pw")
        assert client.stat()[0] >= 1
        client.quit()
    assert pop3_count(dovecot_strict, "carol", "carol-pw", "ssl", tls) >= 1


def test_strict_refuses_new_users_too_and_wrong_passwords_stay_wrong(dovecot_strict, tls):
    dovecot_strict.add_user("dave", "dave-pw")
    with imap(dovecot_strict, "plain") as client:
        with pytest.raises(imaplib.IMAP4.error, match="Plaintext authentication disallowed"):
            client.login("dave", "dave-pw")
    with imap(dovecot_strict, "starttls", tls) as client:
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            client.login("dave", "wrong")
        assert client.login("dave", "dave-pw")[0] == "OK"


class _DovecotWithoutLoopbackGate(Dovecot):
    tls_gate_on_loopback = False


def test_dovecot_alone_does_not_refuse_plaintext_on_loopback(peer_certs):
    """Why the gate exists: ``ssl = required`` + ``disable_plaintext_auth = yes``
    still let 127.0.0.1 -> 127.0.0.1 log in without TLS (Dovecot counts it as
    secured).  If this test starts failing, Dovecot refuses by itself and the
    gate in tests/peers/dovecot.py can go."""
    with _DovecotWithoutLoopbackGate({"erin": "erin-pw"}, certs=peer_certs, require_tls=True) as server:
        conf = server.config_path.read_text()
        assert "\nssl = required\n" in conf and "\ndisable_plaintext_auth = yes\n" in conf
        assert imap_count(server, "erin", "erin-pw", "plain") == 0
        assert pop3_count(server, "erin", "erin-pw", "plain") == 0


# --------------------------------------------------------- mailbox manipulation
def test_deliver_counts_and_clear(dovecot, tls, user):
    name, password = user
    assert dovecot.mailbox_count(name) == 0
    started = time.monotonic()
    assert dovecot.deliver(name, (_msg(f"bulk {i}") for i in range(500))) == 500
    assert time.monotonic() - started < 5
    assert dovecot.mailbox_count(name) == 500
    assert imap_count(dovecot, name, password) == 500
    assert pop3_count(dovecot, name, password, "ssl", tls) == 500
    assert dovecot.mailbox_count(name) == 500  # moved new/ -> cur/, still counted

    # POP3 DELE + QUIT expunges: the file goes away.
    with pop3(dovecot, "plain") as client:
        client.user(name)
        client.pass_(password)
        client.dele(1)
        client.dele(2)
        client.quit()
    assert dovecot.mailbox_count(name) == 498

    assert dovecot.clear(name) == 498
    assert dovecot.mailbox_count(name) == 0
    assert imap_count(dovecot, name, password) == 0
    assert pop3_count(dovecot, name, password) == 0

    dovecot.deliver(name, [_msg("after clear")])
    assert imap_count(dovecot, name, password) == 1
    assert pop3_count(dovecot, name, password) == 1


def test_delivered_message_arrives_intact(dovecot, user):
    name, password = user
    message = _msg("intact")
    dovecot.deliver(name, [message])
    with imap(dovecot, "plain") as client:
        client.login(name, password)
        client.select("INBOX")
        typ, data = client.fetch("1", "(BODY.PEEK[])")
        assert typ == "OK" and data[0][1] == message
        # UIDPLUS: UID EXPUNGE works
        client.store("1", "+FLAGS", r"(\Deleted)")
        typ, uids = client.uid("SEARCH", "ALL")
        assert client.uid("EXPUNGE", uids[0].decode())[0] == "OK"
    assert dovecot.mailbox_count(name) == 0


def test_add_user_is_immediate_and_password_change_applies(dovecot):
    name = f"new-{uuid.uuid4().hex[:6]}"
    dovecot.add_user(name, "first")
    assert imap_count(dovecot, name, "first") == 0  # at once, no reload
    dovecot.add_user(name, "second")
    assert imap_count(dovecot, name, "second") == 0
    with imap(dovecot, "plain") as client, pytest.raises(imaplib.IMAP4.error):
        client.login(name, "first")
    dovecot.remove_user(name)
    with imap(dovecot, "plain") as client, pytest.raises(imaplib.IMAP4.error):
        client.login(name, "second")


def test_doveadm_talks_to_the_private_instance(dovecot, user):
    name, _password = user
    dovecot.deliver(name, [_msg("x"), _msg("y")])
    out = dovecot.doveadm("mailbox", "status", "-u", name, "messages", "INBOX").stdout
    assert out.strip() == "INBOX messages=2"


# ------------------------------------------------------------------------ OAuth2
def test_oauth2_config_is_accepted_and_passwords_still_work(peer_certs, tls):
    settings = OAuth2Settings(introspection_url=f"http://127.0.0.1:{free_port()}/introspect")
    with Dovecot({"frank": "frank-pw"}, certs=peer_certs, oauth2=settings) as server:
        with imap(server, "plain") as client:
            assert {"AUTH=XOAUTH2", "AUTH=OAUTHBEARER", "AUTH=PLAIN"} <= set(client.capabilities)
        with pop3(server, "plain") as client:
            assert {"XOAUTH2", "OAUTHBEARER"} <= set(client.capa()["SASL"])
        assert imap_count(server, "frank", "frank-pw", "starttls", tls) == 0
        conf = (server.dir / "dovecot-oauth2.conf.ext").read_text()
        assert "introspection_mode = post" in conf and settings.introspection_url in conf
        assert "Fatal" not in server.log_path.read_text()


# ------------------------------------------------------------------------- Redis
@pytest.fixture(scope="module")
def redis_peer():
    with RedisServer() as server:
        yield server


def test_redis_ping_set_get(redis_peer):
    import redis

    assert redis_peer.url == f"redis://127.0.0.1:{redis_peer.port}/0"
    with redis.Redis.from_url(redis_peer.url) as client:
        assert client.ping()
        client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
        redis_peer.flushall()
        assert client.get("greeting") is None


def test_peer_lifecycle_stop_by_pid_restart_and_cleanup():
    import redis

    server = RedisServer()
    server.keep_dir = False  # even under INTAKE_KEEP_PEER_DIRS=1
    server.start()
    with redis.Redis.from_url(server.url) as client:
        client.set("k", "v")
    server.stop(remove_dir=False)  # down, but can come back
    assert not server.alive() and not port_is_open(server.host, server.port)
    server.start()
    pid, directory = server.pid, server.dir
    assert server.alive() and port_is_open(server.host, server.port)
    server.stop()
    assert not server.alive() and not port_is_open(server.host, server.port)
    assert not directory.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    server.stop()  # idempotent


def test_start_failure_reports_the_log_tail():
    class BrokenRedis(RedisServer):
        def start(self, timeout=10.0):
            self._spawn([self.executable, "--port", str(self.port), "--no-such-option", "x"])
            self._wait_port(self.host, self.port, timeout)
            return self

    server = BrokenRedis()
    try:
        with pytest.raises(RuntimeError, match="(?s)exited before.*no-such-option"):
            server.start()
        assert not server.alive()
    finally:
        server.stop()


def test_wait_for_port_times_out():
    port = free_port()
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=str(port)):
        wait_for_port("127.0.0.1", port, timeout=0.3)
    assert time.monotonic() - started < 2


# -------------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="module")
def postgres_peer():
    with PostgresCluster() as cluster:
        yield cluster


def test_postgres_create_use_clone_drop(postgres_peer):
    import psycopg
    import sqlalchemy

    name = f"t_{uuid.uuid4().hex[:8]}"
    url = postgres_peer.create_database(name)
    assert url == postgres_peer.url(name) == f"postgresql+psycopg://postgres@127.0.0.1:{postgres_peer.port}/{name}"

    with psycopg.connect(postgres_peer.dsn(name)) as conn:
        conn.execute("CREATE TABLE ticket (id serial PRIMARY KEY, subject text NOT NULL)")
        conn.execute("INSERT INTO ticket (subject) VALUES ('héllo ✓')")

    # A copy from the template, even while a session is still open on the template.
    holder = psycopg.connect(postgres_peer.dsn(name))
    try:
        clone = postgres_peer.create_database(f"{name}_copy", template=name)
    finally:
        holder.close()
    engine = sqlalchemy.create_engine(clone)
    try:
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT subject FROM ticket")).scalar_one() == "héllo ✓"
    finally:
        engine.dispose()

    # drop_database terminates open sessions first.
    lingering = psycopg.connect(postgres_peer.dsn(name))
    try:
        postgres_peer.drop_database(name)
        postgres_peer.drop_database(f"{name}_copy")
    finally:
        with contextlib.suppress(Exception):
            lingering.close()
    assert not postgres_peer.database_exists(name)
    assert not postgres_peer.database_exists(f"{name}_copy")
    postgres_peer.drop_database(name)  # absent: no error
