"""Fixtures for the web UI tests: people, tickets, a CSRF-aware client, a live server and Chromium.

Import them with ``from tests.fixtures_web import *``.

``live_server`` serves the test app (same database as ``app``) with werkzeug's
``make_server`` in a thread, and starts a real :class:`intake.jobs.EmbeddedRunner`
beside it — what ``intake run`` does — so "Fetch now" in the browser runs a real
collection job in a worker thread. Its scheduler tick is set to an hour, so nothing
is collected unless the test clicks "Fetch now".
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from intake.extensions import db
from intake.ingest import Ingestor
from intake.models import Queue, Ticket, User
from tests.conftest import make_message

__all__ = ["people", "web", "login", "csrf_token", "add_ticket", "add_ticket_ref", "TicketRef", "live_server", "browser", "page",
           "SCREENSHOTS", "CHROMIUM_ARGS", "Person", "Browser"]

PASSWORD = "correct-horse-battery"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Person:
    email: str
    id: int
    password: str = PASSWORD


@dataclass
class QueueRef:
    id: int
    name: str


@dataclass
class People:
    admin: Person
    agent: Person
    support: QueueRef
    sales: QueueRef


@pytest.fixture
def people(app) -> People:
    """An administrator, and an agent granted the Support queue only (Sales exists, not granted)."""
    support, sales = Queue(name="Support"), Queue(name="Sales")
    admin = User(email="admin@example.com", name="Ada Admin", password_hash=generate_password_hash(PASSWORD),
                 is_admin=True)
    agent = User(email="agent@example.com", name="Alex Agent", password_hash=generate_password_hash(PASSWORD))
    agent.queues = [support]
    db.session.add_all([support, sales, admin, agent])
    db.session.commit()
    result = People(Person(admin.email, admin.id), Person(agent.email, agent.id), QueueRef(support.id, support.name),
                    QueueRef(sales.id, sales.name))
    db.session.commit()  # reading the ids began a transaction: end it (SQLite: it holds the write lock)
    db.session.expunge_all()
    return result


def csrf_token(client) -> str:
    """A valid token for this client's session (from the login page, or a page once logged in)."""
    response = client.get("/login")
    if response.status_code == 302:
        response = client.get("/")
    match = _TOKEN.search(response.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, person: Person) -> None:
    response = client.post("/login", data={"email": person.email, "password": person.password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


class _FreshContext:
    """Runs each request in its own app context, as a real server does (the ``app`` fixture keeps
    one pushed for the whole test, and Flask would otherwise share ``g`` across requests)."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if name not in ("get", "post", "open"):
            return attribute

        def call(*args, **kwargs):
            db.session.commit()  # the test's own transaction ends first (SQLite: BEGIN IMMEDIATE holds the write lock)
            with self._client.application.app_context():
                return attribute(*args, **kwargs)
        return call


class WebClient:
    """The Flask test client, posting with a valid CSRF token unless told not to."""

    def __init__(self, client):
        self.client = _FreshContext(client)

    def get(self, *args, **kwargs):
        return self.client.get(*args, **kwargs)

    def post(self, url, data=None, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", csrf_token(self.client))
        return self.client.post(url, data=data, **kwargs)

    def login(self, person: Person) -> "WebClient":
        login(self.client, person)
        return self


@pytest.fixture
def web(app):
    """A factory of logged-in clients: ``web(people.agent)``; ``web()`` is anonymous."""
    def make(person: Person | None = None) -> WebClient:
        client = WebClient(app.test_client())
        return client.login(person) if person else client
    return make


def add_ticket(app, queue: str, subject: str, *, body: str = "Hello, I need help.", sender: str = "Customer <customer@example.org>",
               raw: bytes | None = None) -> Ticket:
    """Store a message through the real pipeline (Ingestor, import mode) into ``queue``; returns its ticket."""
    raw = raw or make_message(subject, body=body, sender=sender)
    result = Ingestor(db.session, app.config, queue=queue).process(raw)
    assert result.ticket_number, result
    db.session.commit()
    return db.session.scalar(select(Ticket).where(Ticket.number == result.ticket_number))


@dataclass
class TicketRef:
    number: str
    title: str
    article_ids: list[int]


def add_ticket_ref(app, queue: str, subject: str, **kwargs) -> TicketRef:
    """add_ticket for tests that run a live server: plain values, and no transaction left open
    (on SQLite every transaction holds the write lock the server's requests wait for)."""
    ticket = add_ticket(app, queue, subject, **kwargs)
    ref = TicketRef(ticket.number, ticket.title, [a.id for a in ticket.articles])
    db.session.commit()
    return ref


@pytest.fixture
def live_server(app):
    """The test app over HTTP on 127.0.0.1, with an embedded job runner (see module docstring)."""
    from intake.jobs import EmbeddedRunner

    app.config["SCHEDULER_TICK_SECONDS"] = 3600
    db.session.remove()
    runner = EmbeddedRunner(app).start()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    runner.stop()
    app.extensions.pop("intake_embedded", None)


class Browser:
    """One Chromium for the session; each test gets its own context (cookies) and page."""

    def __init__(self):
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self.chromium = self._playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)

    def close(self):
        self.chromium.close()
        self._playwright.stop()


@pytest.fixture(scope="session")
def browser():
    instance = Browser()
    yield instance.chromium
    instance.close()


@pytest.fixture
def page(browser):
    """A fresh page that records console errors, page errors and dialogs (none may happen)."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.console_errors, page.dialogs, page.page_errors = [], [], []
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.page_errors.append(str(exc)))

    def on_dialog(dialog):  # a confirm() the test expects is accepted; anything else is recorded
        page.dialogs.append(dialog.message)
        dialog.accept() if dialog.type == "confirm" and getattr(page, "accept_confirm", False) else dialog.dismiss()
    page.on("dialog", on_dialog)
    yield page
    context.close()
