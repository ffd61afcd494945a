"""Fixtures of the OAuth2 tests (``from tests.fixtures_oauth import *``).

Peers, one per test session, all on 127.0.0.1:

* ``oauth_mock``: oauth2-mock-server 8.2.3 wrapped by tests/peers/oauth_mock/server.js
  (authorization code + PKCE, refresh, client credentials, real introspection);
* ``dovecot_oauth``: a Dovecot whose oauth2 passdb introspects tokens at ``oauth_mock``;
* ``device_server``: the authlib device-grant server (tests/peers/device_server.py) and
  ``dovecot_device``, a Dovecot that introspects at it;
* ``oauth_browser``: headless Debian Chromium through Playwright.
"""
from __future__ import annotations

import contextlib
import itertools
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from intake.extensions import db
from tests.peers.device_server import DeviceServer
from tests.peers.dovecot import Dovecot, OAuth2Settings
from tests.peers.oauth_server import OAuthMockServer
from tests.peers.ports import free_port

__all__ = [
    "APP_CLIENT", "APP_SECRET", "CHROMIUM_ARGS", "CLIENT_ID", "CLIENT_SECRET", "DEVICE_CLIENT", "DEVICE_SECRET",
    "MAILBOX_PORTS", "admin_login", "ensure_admin", "device_server", "dovecot_device", "dovecot_oauth", "live_app", "mock_settings",
    "oauth_browser", "oauth_mock", "oauth_user", "add_oauth_account", "add_provider", "authorize_headless",
]

CLIENT_ID, CLIENT_SECRET = "intake-web", "web-secret-" + uuid.uuid4().hex
APP_CLIENT, APP_SECRET = "intake-daemon", "app-secret-" + uuid.uuid4().hex
DEVICE_CLIENT, DEVICE_SECRET = "intake-device", "device-secret-" + uuid.uuid4().hex
MAILBOX_PORTS = {"imaps": "imaps_port", "pop3s": "pop3s_port", "imap": "imap_port", "pop3": "pop3_port",
                 "imaptls": "imap_port", "pop3tls": "pop3_port"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
BROWSER_TIMEOUT_SECONDS = 120
MOCK_DEFAULTS = {"accessTtl": 3600, "refreshTokenTtl": None, "tokenDelayMs": 0}
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.com", "admin-password-" + uuid.uuid4().hex[:8]
_users = itertools.count(1)


# --- peers ---
@pytest.fixture(scope="session")
def oauth_mock():
    with OAuthMockServer({CLIENT_ID: CLIENT_SECRET, APP_CLIENT: APP_SECRET}) as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_oauth(certs, oauth_mock):
    with Dovecot(certs=certs, oauth2=OAuth2Settings(introspection_url=oauth_mock.introspection_url)) as server:
        yield server


@pytest.fixture(scope="session")
def device_server():
    with DeviceServer({DEVICE_CLIENT: DEVICE_SECRET}) as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_device(certs, device_server):
    with Dovecot(certs=certs, oauth2=OAuth2Settings(introspection_url=device_server.introspection_url)) as server:
        yield server


@pytest.fixture
def mock_settings(oauth_mock):
    """Change the mock's token lifetimes/delays for one test; restored afterwards."""
    yield oauth_mock.settings
    oauth_mock.settings(**MOCK_DEFAULTS)


@pytest.fixture
def oauth_user():
    """A fresh mailbox address (the identity the authorization server signs in)."""
    return f"user{next(_users)}-{uuid.uuid4().hex[:6]}@example.com"


@pytest.fixture
def oauth_browser():
    """Runs ``steps(browser)`` in headless Chromium and returns its result.

    Each call drives its own Playwright in a thread of its own: the sync API allows one
    Playwright per thread, and other test modules keep a session-wide one in the main thread.
    """
    def run(steps):
        def work():
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS,
                                                     headless=True)
                try:
                    return steps(browser)
                finally:
                    browser.close()

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium") as pool:
            return pool.submit(work).result(timeout=BROWSER_TIMEOUT_SECONDS)
    return run


@pytest.fixture
def live_app(app):
    """The test app served over HTTP on 127.0.0.1 (for the browser); PUBLIC_URL points at it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app.config["PUBLIC_URL"] = url
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    db.session.commit()
    yield url
    server.shutdown()
    thread.join(10)


# --- helpers ---
def add_provider(cli, name: str, kind: str, *args: str, secret: str | None = CLIENT_SECRET,
                 client_id: str = CLIENT_ID):
    env = {"OAUTH_CLIENT_SECRET": secret} if secret else None
    options = ["--client-secret-env", "OAUTH_CLIENT_SECRET"] if secret else []
    result = cli("oauth", "providers", "add", name, "--kind", kind, "--client-id", client_id, *options, *args, env=env)
    assert result.exit_code == 0, result.output
    return result


def add_oauth_account(cli, server, protocol: str, username: str, provider: str, grant: str, *,
                      name: str | None = None, sasl: str = "xoauth2", ca_file: str | None = None, extra=()):
    name = name or f"{protocol}-{sasl}-{uuid.uuid4().hex[:6]}"
    args = ["accounts", "add", "--name", name, "--protocol", protocol, "--host", server.host,
            "--port", str(getattr(server, MAILBOX_PORTS[protocol])), "--username", username,
            "--auth", "oauth2", "--oauth-provider", provider, "--grant", grant, "--sasl", sasl, *extra]
    if ca_file:
        args += ["--ca-file", ca_file]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return name


def ensure_admin() -> tuple[str, str]:
    """The administrator who uses the browser (created once per app): (e-mail, password)."""
    from intake.cli.admin import save_user

    with contextlib.suppress(Exception):
        save_user(ADMIN_EMAIL, ADMIN_PASSWORD, admin=True)
        db.session.commit()
    db.session.rollback()
    return ADMIN_EMAIL, ADMIN_PASSWORD


def admin_login(page, base_url: str, credentials: tuple[str, str]) -> None:
    """Log in through the login form (in the browser's thread: no database access here)."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", credentials[0])
    page.fill("input[name=password]", credentials[1])
    page.click("button[type=submit]")
    page.wait_for_load_state()


def authorize_headless(account_name: str, email: str) -> None:
    """The authorization-code grant without a browser: what the browser does, done with HTTP requests
    (start in Intake, sign in at the provider as ``email``, hand the redirect's code and state back)."""
    from intake.accounts import find_account
    from intake.oauth.authorize import finish_authorization, start_authorization

    url, pending = start_authorization(find_account(account_name))
    db.session.commit()
    answer = requests.get(f"{url}&{urlencode({'login_email': email})}", allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    finish_authorization(pending, dict(parse_qsl(urlsplit(answer.headers["Location"]).query)))
    db.session.commit()
