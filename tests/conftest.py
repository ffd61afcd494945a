"""Fixtures: real peers on 127.0.0.1 (Dovecot, Redis, PostgreSQL) and an app per test.

Every test that uses ``app`` runs twice: on SQLite and on PostgreSQL
(``INTAKE_TEST_DB=sqlite`` or ``=postgresql`` narrows it to one). PostgreSQL is a
throwaway cluster started here unless ``INTAKE_TEST_DATABASE_URL`` names a server
to use (its user must be allowed to CREATE DATABASE).
"""
from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from intake import create_app
from intake.extensions import db
from tests.peers.certs import make_certificates
from tests.peers.dovecot import Dovecot
from tests.peers.postgres import PostgresCluster
from tests.peers.redis_server import RedisServer

ENCRYPTION_KEY = Fernet.generate_key().decode()
# Subprocesses run the `intake` console of the interpreter running the tests (the virtualenv's),
# never another installation that happens to be on PATH.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
BACKENDS = [b for b in ("sqlite", "postgresql") if os.environ.get("INTAKE_TEST_DB", b) == b]
_names = itertools.count(1)


# --- peers (one per test session) ---
@pytest.fixture(scope="session")
def certs():
    directory = tempfile.mkdtemp(prefix="ik-certs-", dir="/tmp")
    yield make_certificates(directory)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot(certs):
    with Dovecot(certs=certs) as server:
        server.start()
        yield server


@pytest.fixture(scope="session")
def dovecot_strict(certs):
    """A Dovecot that refuses plaintext logins before STARTTLS/STLS, even from loopback."""
    with Dovecot(certs=certs, require_tls=True) as server:
        server.start()
        yield server


@pytest.fixture(scope="session")
def redis_server():
    with RedisServer() as server:
        server.start()
        yield server


@pytest.fixture(scope="session")
def postgres_admin_url():
    given = os.environ.get("INTAKE_TEST_DATABASE_URL")
    if given:
        yield given
        return
    with PostgresCluster() as cluster:
        cluster.start()
        yield cluster.url("postgres")


# --- databases ---
@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    """A migrated SQLite file; each test gets a copy (migrating once is the slow part)."""
    directory = tmp_path_factory.mktemp("sqlite-template")
    path = directory / "template.sqlite3"
    _migrate(f"sqlite:///{path}", directory)
    return path


@pytest.fixture(scope="session")
def _postgres_template(postgres_admin_url, tmp_path_factory):
    name = f"intake_template_{uuid.uuid4().hex[:8]}"
    _pg_execute(postgres_admin_url, f'CREATE DATABASE "{name}"')
    _migrate(_pg_url(postgres_admin_url, name), tmp_path_factory.mktemp("pg-template"))
    yield name


def _migrate(url: str, instance: Path) -> None:
    from intake import migrate

    app = create_app(_config(url, instance))
    with app.app_context():
        migrate.upgrade()
        db.engine.dispose()


def _pg_url(admin_url: str, dbname: str) -> str:
    return make_url(admin_url).set(database=dbname).render_as_string(hide_password=False)


def _pg_execute(admin_url: str, sql: str) -> None:
    import psycopg

    url = make_url(admin_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                         dbname=url.database, autocommit=True) as conn:
        conn.execute(sql)


def _config(url: str, instance: Path, **extra) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEY": ENCRYPTION_KEY,
        "REDIS_URL": None,
        **extra,
    }


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "intake.sqlite3"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    template = request.getfixturevalue("_postgres_template")
    name = f"intake_test_{uuid.uuid4().hex[:10]}"
    _pg_execute(admin, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _pg_url(admin, name)
    _pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app_config(database_url, tmp_path):
    """The test app's configuration; a test may change it before asking for ``app``."""
    return _config(database_url, tmp_path / "instance")


@pytest.fixture
def app(app_config):
    from intake.cli.admin import ensure_default_queue

    application = create_app(app_config)
    with application.app_context():
        ensure_default_queue(application.config["DEFAULT_QUEUE"])
        db.session.commit()
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def cli(app):
    """Invoke `intake …` against the test app: ``cli("accounts", "list", "--json")``."""
    from intake.cli import cli as group

    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None, env: dict | None = None):
        return runner.invoke(group, list(args), input=input, env=env, catch_exceptions=False)
    return invoke


@pytest.fixture
def subprocess_env(app_config):
    """Environment for running the real `intake` console against the test app's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(INTAKE_DATABASE_URL=app_config["DATABASE_URL"], INTAKE_ENCRYPTION_KEY=ENCRYPTION_KEY,
               INTAKE_SECRET_KEY="test-secret-key", INTAKE_INSTANCE_PATH=app_config["INSTANCE_PATH"])
    if app_config.get("REDIS_URL"):
        env["INTAKE_REDIS_URL"] = app_config["REDIS_URL"]
    return env


# --- mailboxes and messages ---
@pytest.fixture
def mailbox(dovecot):
    """A fresh Dovecot user: (username, password)."""
    user = f"user{next(_names)}-{uuid.uuid4().hex[:6]}"
    password = f"pw-{uuid.uuid4().hex}"
    dovecot.add_user(user, password)
    return user, password


def make_message(subject: str, *, to: str = "support@example.com", sender: str = "Customer <customer@example.org>",
                 body: str = "Hello, I need help.", headers: dict | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.org")
    message["Date"] = "Mon, 23 Nov 2026 10:00:00 +0000"
    for name, value in (headers or {}).items():
        del message[name]
        message[name] = value
    message.set_content(body)
    return bytes(message)


PORT_ATTRIBUTES = {"pop3": "pop3_port", "pop3s": "pop3s_port", "pop3tls": "pop3_port",
                   "imap": "imap_port", "imaps": "imaps_port", "imaptls": "imap_port"}


def account_args(server, protocol: str, user: str, *, name: str | None = None, ca_file: str | None = None) -> list[str]:
    """`intake accounts add` arguments for a Dovecot mailbox (password from $MAILBOX_PASSWORD)."""
    args = ["accounts", "add", "--name", name or f"{protocol}-{user}", "--protocol", protocol,
            "--host", server.host, "--port", str(getattr(server, PORT_ATTRIBUTES[protocol])),
            "--username", user, "--password-env", "MAILBOX_PASSWORD"]
    if ca_file:
        args += ["--ca-file", ca_file]
    return args
