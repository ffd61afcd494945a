"""Each of the three grants obtains tokens from a real authorization server, and Dovecot (which
checks every token by introspection) lets Intake collect mail over IMAPS and POP3S with
SASL XOAUTH2 and OAUTHBEARER. The authorization-code grant is driven in headless Chromium."""
from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import datetime

import pytest
from sqlalchemy import select

from intake.extensions import db
from intake.models import Ticket
from tests.conftest import make_message
from tests.fixtures_oauth import *  # noqa: F403
from tests.fixtures_oauth import (APP_CLIENT, APP_SECRET, DEVICE_CLIENT, DEVICE_SECRET, add_oauth_account,
                                  add_provider, admin_login, ensure_admin)

COMBINATIONS = [("imaps", "xoauth2"), ("imaps", "oauthbearer"), ("pop3s", "xoauth2"), ("pop3s", "oauthbearer")]
#: Every transport with both mechanisms (plain IMAP/POP3 are fine on loopback; STARTTLS variants upgrade first).
ALL_TRANSPORTS = [(protocol, sasl) for protocol in ("imap", "imaps", "imaptls", "pop3", "pop3s", "pop3tls")
                  for sasl in ("xoauth2", "oauthbearer")]
DEVICE_LOGIN_TIMEOUT_SECONDS = 60


def show(cli, name: str) -> dict:
    data = json.loads(cli("accounts", "show", name, "--json").output)
    db.session.commit()  # end the read: the live app and subprocesses write to the same database
    return data


def status_of(cli, name: str) -> dict:
    entries = json.loads(cli("oauth", "status", "--json").output)["accounts"]
    db.session.commit()
    return next(entry for entry in entries if entry["account"] == name)


def collects(cli, server, user: str, name: str, subjects: list[str]) -> None:
    server.deliver(user, [make_message(subject) for subject in subjects])
    result = cli("fetch", name)
    assert result.exit_code == 0, result.output
    assert f"{len(subjects)} stored" in result.output
    assert sorted(db.session.scalars(select(Ticket.title))) == sorted(subjects)
    assert server.mailbox_count(user) == 0, "collected mail is removed from the server"
    db.session.commit()


def authorize_in_browser(chromium, base_url: str, account_id: int, email: str) -> str:
    """An administrator clicks Authorize, signs in at the provider as ``email``, and lands back in Intake."""
    admin = ensure_admin()
    db.session.commit()  # the live app writes to the same database meanwhile

    def steps(browser) -> str:
        context = browser.new_context()
        try:
            page = context.new_page()
            admin_login(page, base_url, admin)
            page.goto(f"{base_url}/oauth/accounts/{account_id}")
            page.click("#authorize")
            page.wait_for_selector("input[name=login_email]")  # the provider's sign-in page
            assert not page.url.startswith(base_url)
            page.fill("input[name=login_email]", email)
            page.click("button[type=submit]")
            page.wait_for_selector("#oauth-done, #oauth-error")
            return page.inner_text("main")
        finally:
            context.close()
    return chromium(steps)


# --- authorization code with PKCE and state, in the browser ---
@pytest.mark.parametrize("protocol, sasl", COMBINATIONS)
def test_authorization_code_grant_in_the_browser_then_collection(protocol, sasl, cli, live_app, oauth_browser,
                                                                 oauth_mock, dovecot_oauth, oauth_user, certs):
    add_provider(cli, "contoso", "microsoft", "--tenant", "contoso", "--authority", oauth_mock.url)
    name = add_oauth_account(cli, dovecot_oauth, protocol, "not-yet-known@example.invalid", "contoso",
                             "authorization_code", sasl=sasl, ca_file=str(certs.ca_cert))
    tenants_before = len(oauth_mock.stats()["tenants"])

    page_text = authorize_in_browser(oauth_browser, live_app, show(cli, name)["id"], oauth_user)

    assert f"is authorized as {oauth_user}" in page_text
    account = show(cli, name)
    assert account["username"] == oauth_user, "the username comes from the ID token"
    assert account["oauth_status"] == "authorized"
    # sign-in page, authorization, token: all at the Microsoft plugin's tenant-aware endpoints
    assert oauth_mock.stats()["tenants"][tenants_before:] == ["contoso"] * 3
    status = status_of(cli, name)
    assert status["access_token"]["expires_at"] and status["refresh_token"]["expires_at"]
    collects(cli, dovecot_oauth, oauth_user, name, [f"{protocol} {sasl} via authorization code"])


@pytest.mark.parametrize("kind", ["google", "generic"])
def test_authorization_code_grant_with_the_google_and_generic_plugins(kind, cli, live_app, oauth_browser,
                                                                      oauth_mock, dovecot_oauth, oauth_user, certs):
    if kind == "google":
        add_provider(cli, "mail", "google", "--authorize-url", f"{oauth_mock.url}/authorize",
                     "--token-url", f"{oauth_mock.url}/token")
    else:
        add_provider(cli, "mail", "generic", "--discovery-url", oauth_mock.discovery_url,
                     "--scopes", "openid email offline_access mail")
    name = add_oauth_account(cli, dovecot_oauth, "imaps", "someone@example.invalid", "mail", "authorization_code",
                             ca_file=str(certs.ca_cert))
    page_text = authorize_in_browser(oauth_browser, live_app, show(cli, name)["id"], oauth_user)
    assert f"is authorized as {oauth_user}" in page_text
    collects(cli, dovecot_oauth, oauth_user, name, [f"{kind} works"])


def test_the_callback_refuses_an_answer_it_did_not_ask_for(cli, live_app, oauth_browser, oauth_mock, dovecot_oauth,
                                                           oauth_user):
    add_provider(cli, "contoso", "microsoft", "--tenant", "contoso", "--authority", oauth_mock.url)
    add_oauth_account(cli, dovecot_oauth, "imaps", oauth_user, "contoso", "authorization_code", name="victim")
    admin = ensure_admin()
    db.session.commit()

    def steps(browser) -> str:
        context = browser.new_context()
        try:
            page = context.new_page()
            admin_login(page, live_app, admin)
            page.goto(f"{live_app}/oauth/callback?code=stolen&state=forged")
            return page.inner_text("#oauth-error")
        finally:
            context.close()
    assert "no authorization was started in this browser session" in oauth_browser(steps)
    assert status_of(cli, "victim")["status"] == "not-authorized"


def test_oauth_pages_are_for_administrators_only(app, cli, oauth_mock, dovecot_oauth, oauth_user):
    from intake.cli.admin import save_user

    add_provider(cli, "contoso", "microsoft", "--tenant", "contoso", "--authority", oauth_mock.url)
    add_oauth_account(cli, dovecot_oauth, "imaps", oauth_user, "contoso", "authorization_code", name="acct")
    account_id = show(cli, "acct")["id"]
    save_user("agent@example.com", "agent-password", admin=False)
    db.session.commit()
    client = app.test_client()
    anonymous = client.get(f"/oauth/accounts/{account_id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    logged_in = client.post("/login", data={"email": "agent@example.com", "password": "agent-password",
                                            "csrf_token": token})
    assert logged_in.status_code == 302
    for path in ("/oauth/providers", f"/oauth/accounts/{account_id}", "/oauth/callback?code=x&state=y"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/oauth/accounts/{account_id}/authorize").status_code in (400, 403)


# --- device authorization grant (RFC 8628), from the console ---
@pytest.mark.parametrize("protocol, sasl", COMBINATIONS)
def test_device_grant_from_the_console_then_collection(protocol, sasl, cli, device_server, dovecot_device,
                                                       oauth_user, certs, subprocess_env):
    add_provider(cli, "contoso", "microsoft", "--tenant", "contoso", "--authority", device_server.url,
                 client_id=DEVICE_CLIENT, secret=DEVICE_SECRET)
    name = add_oauth_account(cli, dovecot_device, protocol, oauth_user, "contoso", "device_code", sasl=sasl,
                             ca_file=str(certs.ca_cert))
    db.session.commit()

    login = subprocess.Popen(["intake", "oauth", "device-login", name], env=subprocess_env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        first = login.stdout.readline()
        match = re.search(r"open (\S+) and enter the code (\S+)", first)
        assert match, first
        device_server.approve(match.group(1), match.group(2), oauth_user)  # the user, on another device
        output, _ = login.communicate(timeout=DEVICE_LOGIN_TIMEOUT_SECONDS)
    finally:
        if login.poll() is None:
            login.kill()
            login.wait()
    assert login.returncode == 0, first + output
    assert f"account {name} authorized as {oauth_user}" in output
    assert "contoso" in device_server.stats()["tenants"], "the Microsoft plugin's tenant-aware device endpoint"
    assert status_of(cli, name)["status"] == "authorized"
    collects(cli, dovecot_device, oauth_user, name, [f"{protocol} {sasl} via device code"])


def test_device_login_that_nobody_completes_ends_with_a_clear_error(cli, app, device_server, dovecot_device,
                                                                     oauth_user, monkeypatch):
    from intake.accounts import find_account
    from intake.oauth import authorize

    add_provider(cli, "contoso", "microsoft", "--tenant", "contoso", "--authority", device_server.url,
                 client_id=DEVICE_CLIENT, secret=DEVICE_SECRET)
    name = add_oauth_account(cli, dovecot_device, "imaps", oauth_user, "contoso", "device_code")
    shown = []

    def time_passes(_seconds):  # nobody signs in; the code's lifetime runs out
        monkeypatch.setattr(authorize, "utcnow", lambda: datetime(2100, 1, 1))

    with pytest.raises(authorize.AuthorizationFailed, match="expired before sign-in finished"):
        authorize.device_login(find_account(name), shown.append, sleep=time_passes)
    assert shown and shown[0].user_code and shown[0].verification_uri.startswith(device_server.url)


# --- client credentials (app-only), on all six transports ---
@pytest.mark.parametrize("protocol, sasl", ALL_TRANSPORTS)
def test_client_credentials_grant_collects_without_any_user(protocol, sasl, cli, oauth_mock, dovecot_oauth,
                                                            oauth_user, certs):
    oauth_mock.app_access(APP_CLIENT, oauth_user)  # the tenant admin let the app open this mailbox
    add_provider(cli, "contoso-app", "microsoft", "--tenant", "contoso", "--authority", oauth_mock.url,
                 client_id=APP_CLIENT, secret=APP_SECRET)
    name = add_oauth_account(cli, dovecot_oauth, protocol, oauth_user, "contoso-app", "client_credentials",
                             sasl=sasl, ca_file=str(certs.ca_cert))
    before = oauth_mock.stats()["grants"].get("client_credentials", 0)

    collects(cli, dovecot_oauth, oauth_user, name, [f"{protocol} {sasl} via client credentials"])

    assert oauth_mock.stats()["grants"]["client_credentials"] == before + 1
    status = status_of(cli, name)
    assert status["status"] == "authorized" and status["refresh_token"] is None
    assert status["access_token"]["scope"] == "https://outlook.office365.com/.default"


def test_a_token_for_one_mailbox_does_not_open_another(cli, oauth_mock, dovecot_oauth, oauth_user, certs):
    """Dovecot checks the token's user against the login name: the username must be the mailbox."""
    oauth_mock.app_access(APP_CLIENT, oauth_user)
    add_provider(cli, "contoso-app", "microsoft", "--tenant", "contoso", "--authority", oauth_mock.url,
                 client_id=APP_CLIENT, secret=APP_SECRET)
    name = add_oauth_account(cli, dovecot_oauth, "imaps", "someone-else@example.com", "contoso-app",
                             "client_credentials", ca_file=str(certs.ca_cert))
    started = time.monotonic()
    result = cli("fetch", name)
    assert result.exit_code == 1
    assert "rejected the OAuth2 access token" in result.output
    assert "also with a freshly refreshed token" in result.output
    assert time.monotonic() - started < 10
