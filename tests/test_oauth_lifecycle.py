"""Token lifecycle: refreshed ahead of expiry, once, under a lock all workers share; a rejected
token is refreshed once and retried; a failed refresh marks only its account; tokens can be
cleared; expiry is warned about; no token or secret ever shows in plain text."""
from __future__ import annotations

import json
import logging
import subprocess
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from intake.extensions import db
from intake.models import MailAccount, OAuthAccessToken, OAuthRefreshToken, Ticket, utcnow
from tests.conftest import account_args, make_message
from tests.peers.ports import free_port
from tests.fixtures_oauth import *  # noqa: F403
from tests.fixtures_oauth import (APP_CLIENT, APP_SECRET, CLIENT_SECRET, add_oauth_account, add_provider,
                                  authorize_headless)

CHECK_TIMEOUT_SECONDS = 60


@pytest.fixture
def provider(cli, oauth_mock):
    add_provider(cli, "contoso", "microsoft", "--tenant", "contoso", "--authority", oauth_mock.url)
    return "contoso"


@pytest.fixture
def authorized(cli, provider, dovecot_oauth, oauth_user, certs):
    """An IMAPS account authorized (authorization code) as a fresh mailbox: (account name, mailbox)."""
    name = add_oauth_account(cli, dovecot_oauth, "imaps", oauth_user, provider, "authorization_code",
                             name="main", ca_file=str(certs.ca_cert))
    authorize_headless(name, oauth_user)
    return name, oauth_user


def access_token(name: str) -> OAuthAccessToken:
    db.session.commit()
    account = db.session.scalar(select(MailAccount).where(MailAccount.name == name))
    return db.session.get(OAuthAccessToken, account.id, populate_existing=True)


def refreshes(oauth_mock, user: str) -> int:
    return oauth_mock.stats()["refreshes"].get(user, 0)


def status(cli) -> dict:
    data = json.loads(cli("oauth", "status", "--json").output)
    db.session.commit()
    return {entry["account"]: entry for entry in data["accounts"]} | {"_warnings": data["warnings"]}


# --- refresh ahead of expiry ---
def test_an_expired_access_token_is_refreshed_and_collection_goes_on(cli, app, mock_settings, oauth_mock,
                                                                     dovecot_oauth, provider, oauth_user, certs):
    mock_settings(accessTtl=2)
    name = add_oauth_account(cli, dovecot_oauth, "imaps", oauth_user, provider, "authorization_code",
                             ca_file=str(certs.ca_cert))
    authorize_headless(name, oauth_user)
    first = access_token(name).token
    time.sleep(2.5)  # the access token is now expired, for Dovecot's introspection too

    dovecot_oauth.deliver(oauth_user, [make_message("after expiry")])
    result = cli("fetch", name)

    assert result.exit_code == 0, result.output
    assert "1 stored" in result.output
    assert refreshes(oauth_mock, oauth_user) == 1
    assert access_token(name).token != first
    assert status(cli)[name]["refresh_token"]["refresh_count"] == 1


def test_tokens_are_refreshed_ahead_of_expiry_not_before(cli, app, mock_settings, oauth_mock, dovecot_oauth,
                                                         provider, oauth_user, certs):
    app.config["OAUTH_REFRESH_MARGIN_SECONDS"] = 300
    name = add_oauth_account(cli, dovecot_oauth, "pop3s", oauth_user, provider, "authorization_code",
                             ca_file=str(certs.ca_cert))
    authorize_headless(name, oauth_user)  # valid for an hour: used as it is
    assert cli("check", name).exit_code == 0
    assert refreshes(oauth_mock, oauth_user) == 0

    mock_settings(accessTtl=200)  # the next token lives less than the margin
    db.session.execute(text("UPDATE oauth_access_tokens SET expires_at = :at"), {"at": utcnow() + timedelta(seconds=200)})
    db.session.commit()
    checked = cli("check", name)
    assert checked.exit_code == 0, checked.output
    assert refreshes(oauth_mock, oauth_user) == 1, "still valid, but inside the margin: refreshed before use"


def test_a_token_the_server_rejects_is_refreshed_once_and_retried(cli, oauth_mock, dovecot_oauth, authorized):
    name, user = authorized
    oauth_mock.revoke_access(user)  # the server now refuses the stored (unexpired) access token

    checked = cli("check", name)

    assert checked.exit_code == 0, checked.output
    assert checked.output.count("AUTHENTICATE XOAUTH2") == 2, "one retry, on a new connection"
    assert refreshes(oauth_mock, user) == 1
    dovecot_oauth.deliver(user, [make_message("after a rejected token")])
    assert "1 stored" in cli("fetch", name).output


# --- a failed refresh: that account only ---
def test_a_revoked_refresh_token_marks_only_that_account_and_the_others_keep_collecting(
        cli, app, oauth_mock, dovecot_oauth, provider, certs):
    users = {name: f"{name}-{time.monotonic_ns()}@example.com" for name in ("alice", "bob")}
    for name, user in users.items():
        add_oauth_account(cli, dovecot_oauth, "imaps", user, provider, "authorization_code", name=name,
                          ca_file=str(certs.ca_cert))
        authorize_headless(name, user)
    dovecot_oauth.add_user("carol", "carol-password")
    cli(*account_args(dovecot_oauth, "pop3s", "carol", name="carol", ca_file=str(certs.ca_cert)),
        env={"MAILBOX_PASSWORD": "carol-password"})
    for name, user in [*users.items(), ("carol", "carol")]:
        dovecot_oauth.deliver(user, [make_message(f"for {name}")])
    oauth_mock.revoke(users["alice"])  # alice withdrew consent: access and refresh tokens are dead
    refused_before = len(oauth_mock.stats()["refused"])

    result = cli("fetch", "--all")

    assert result.exit_code == 1
    assert "alice: error" in result.output
    assert "account alice needs OAuth2 authorization: invalid_grant: AADSTS50173" in result.output
    assert "bob: ok" in result.output and "carol: ok" in result.output
    assert sorted(db.session.scalars(select(Ticket.title))) == ["for bob", "for carol"]
    assert len(oauth_mock.stats()["refused"]) == refused_before + 1, "one refresh attempt, no stampede"
    alice = status(cli)["alice"]
    assert alice["status"] == "authorization-needed" and "invalid_grant" in alice["last_error"]
    assert alice["refresh_token"] is None, "the dead refresh token is not kept"
    assert status(cli)["bob"]["status"] == "authorized"
    first = db.session.scalar(select(MailAccount).where(MailAccount.name == "alice"))
    assert first.consecutive_failures == 1
    assert first.next_run_at - first.last_run_at == timedelta(seconds=first.interval_seconds)
    db.session.commit()

    again = cli("fetch", "alice")  # backs off; fails fast without asking the provider
    assert again.exit_code == 1 and "needs OAuth2 authorization" in again.output
    assert len(oauth_mock.stats()["refused"]) == refused_before + 1
    second = db.session.scalar(select(MailAccount).where(MailAccount.name == "alice"))
    assert second.consecutive_failures == 2
    assert second.next_run_at - second.last_run_at == timedelta(seconds=2 * second.interval_seconds)
    assert any("alice: needs authorization again" in w for w in status(cli)["_warnings"])
    db.session.commit()

    authorize_headless("alice", users["alice"])  # an administrator authorizes again
    fixed = cli("fetch", "alice")
    assert fixed.exit_code == 0 and "1 stored" in fixed.output
    assert status(cli)["alice"]["status"] == "authorized"


def test_a_provider_that_cannot_be_reached_is_a_temporary_error(cli, authorized):
    name, _ = authorized
    closed = f"http://127.0.0.1:{free_port()}/token"
    assert cli("oauth", "providers", "set", "contoso", "--token-url", closed).exit_code == 0
    db.session.execute(text("UPDATE oauth_access_tokens SET expires_at = :at"), {"at": utcnow()})
    db.session.commit()

    result = cli("fetch", name)

    assert result.exit_code == 1
    assert "provider contoso could not be reached for a token refresh" in result.output
    entry = status(cli)[name]
    assert entry["status"] == "authorized", "the grant is still good: no re-authorization asked for"
    assert "could not be reached" in entry["last_error"] and entry["refresh_token"] is not None


# --- one refresh for many workers ---
def race_two_checks(name: str, env: dict) -> list[subprocess.CompletedProcess]:
    """Two `intake check` processes that need a refresh at the same moment."""
    workers = [subprocess.Popen(["intake", "check", name], env=env, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [worker.communicate(timeout=CHECK_TIMEOUT_SECONDS)[0] for worker in workers]
    return [(worker.returncode, output) for worker, output in zip(workers, outputs)]


def test_two_workers_refreshing_at_once_refresh_once(cli, mock_settings, oauth_mock, authorized, subprocess_env):
    name, user = authorized
    db.session.execute(text("UPDATE oauth_access_tokens SET expires_at = :at"), {"at": utcnow()})
    db.session.commit()
    mock_settings(tokenDelayMs=1500)  # the refresh takes a while: the second worker arrives meanwhile
    refused_before = len(oauth_mock.stats()["refused"])

    results = race_two_checks(name, subprocess_env)

    assert [code for code, _ in results] == [0, 0], results
    assert refreshes(oauth_mock, user) == 1
    assert len(oauth_mock.stats()["refused"]) == refused_before, "no worker used the rotated (dead) refresh token"
    assert status(cli)[name]["status"] == "authorized"


def test_two_workers_share_the_redis_refresh_lock(request, redis_server, app_config, mock_settings, oauth_mock,
                                                  dovecot_oauth, oauth_user, certs):
    app_config["REDIS_URL"] = redis_server.url
    cli = request.getfixturevalue("cli")
    assert request.getfixturevalue("app").extensions.get("intake_redis") is not None
    add_provider(cli, "contoso", "microsoft", "--tenant", "contoso", "--authority", oauth_mock.url)
    name = add_oauth_account(cli, dovecot_oauth, "pop3s", oauth_user, "contoso", "authorization_code",
                             ca_file=str(certs.ca_cert))
    authorize_headless(name, oauth_user)
    db.session.execute(text("UPDATE oauth_access_tokens SET expires_at = :at"), {"at": utcnow()})
    db.session.commit()
    mock_settings(tokenDelayMs=1500)

    results = race_two_checks(name, request.getfixturevalue("subprocess_env"))

    assert [code for code, _ in results] == [0, 0], results
    assert refreshes(oauth_mock, oauth_user) == 1
    assert db.session.scalar(select(func.count()).select_from(text("oauth_refresh_locks"))) == 0


# --- clearing tokens ---
def test_clear_tokens_empties_the_token_tables(cli, oauth_mock, dovecot_oauth, provider, authorized, certs):
    name, user = authorized
    oauth_mock.app_access(APP_CLIENT, user)
    add_provider(cli, "daemon", "microsoft", "--tenant", "contoso", "--authority", oauth_mock.url,
                 client_id=APP_CLIENT, secret=APP_SECRET)
    add_oauth_account(cli, dovecot_oauth, "pop3s", user, "daemon", "client_credentials", name="app",
                      ca_file=str(certs.ca_cert))
    assert cli("check", "app").exit_code == 0
    counts = lambda: [db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
                      for model in (OAuthAccessToken, OAuthRefreshToken)]
    assert counts() == [2, 1]

    assert cli("oauth", "clear-tokens", "--account", "app", "--yes").exit_code == 0
    assert counts() == [1, 1]
    asked = cli("oauth", "clear-tokens", input="n\n")
    assert asked.exit_code == 1 and counts() == [1, 1], "nothing is deleted without a yes"
    cleared = cli("oauth", "clear-tokens", "--provider", provider, "--yes")
    assert cleared.exit_code == 0 and "authorize again" in cleared.output
    assert counts() == [0, 0]
    assert status(cli)[name]["status"] == "not-authorized"
    fetched = cli("fetch", name)
    assert fetched.exit_code == 1 and "there is no refresh token" in fetched.output
    assert cli("oauth", "clear-tokens", "--yes").exit_code == 0 and counts() == [0, 0]


def test_changing_the_grant_or_provider_drops_the_old_tokens(cli, authorized):
    name, _ = authorized
    assert status(cli)[name]["access_token"] is not None
    changed = cli("accounts", "set", name, "--grant", "device_code")
    assert changed.exit_code == 0, changed.output
    entry = status(cli)[name]
    assert (entry["status"], entry["access_token"], entry["refresh_token"]) == ("not-authorized", None, None)


# --- warnings before things expire ---
def test_refresh_token_and_client_secret_expiry_is_warned_about(cli, mock_settings, oauth_mock, dovecot_oauth,
                                                                provider, oauth_user, certs):
    mock_settings(refreshTokenTtl=3 * 86400)
    name = add_oauth_account(cli, dovecot_oauth, "imaps", oauth_user, provider, "authorization_code",
                             ca_file=str(certs.ca_cert))
    authorize_headless(name, oauth_user)
    soon = (utcnow() + timedelta(days=5)).date().isoformat()
    add_provider(cli, "old-app", "google", "--client-secret-expires", soon)

    listed = cli("oauth", "status")

    assert f"warning: account {name}: the refresh token expires on" in listed.output
    assert "(in 2 days); authorize the account again before then" in listed.output
    assert f"warning: provider old-app: the client secret expires on {soon}" in listed.output
    cli("oauth", "providers", "set", "old-app", "--client-secret-expires", "2000-01-01")
    assert "the client secret expired on 2000-01-01" in cli("oauth", "status").output


# --- secrets stay secret ---
def test_no_token_or_secret_appears_in_logs_console_output_or_the_database(
        cli, caplog, oauth_mock, dovecot_oauth, provider, authorized, certs, subprocess_env):
    caplog.set_level(logging.DEBUG)
    name, user = authorized
    oauth_mock.app_access(APP_CLIENT, user)
    add_provider(cli, "daemon", "microsoft", "--tenant", "contoso", "--authority", oauth_mock.url,
                 client_id=APP_CLIENT, secret=APP_SECRET)
    add_oauth_account(cli, dovecot_oauth, "pop3s", user, "daemon", "client_credentials", name="app",
                      sasl="oauthbearer", ca_file=str(certs.ca_cert))
    oauth_mock.revoke_access(user)  # forces a refresh and a retry: the most talkative path
    dovecot_oauth.deliver(user, [make_message("secret-free")])
    outputs = [cli(*args).output for args in (
        ("check", name), ("check", "app"), ("fetch", name), ("oauth", "status"), ("oauth", "status", "--json"),
        ("oauth", "providers", "list"), ("oauth", "providers", "list", "--json"), ("accounts", "show", name, "--json"),
        ("accounts", "list", "--json"))]
    db.session.commit()  # the console process below writes to the same database
    checked = subprocess.run(["intake", "check", "app"], env=subprocess_env, capture_output=True, text=True,
                             timeout=CHECK_TIMEOUT_SECONDS)
    outputs += [checked.stdout, checked.stderr]
    assert "OK: 0 messages" in checked.stdout, checked.stderr
    database = []
    for table in db.metadata.sorted_tables:
        database += [repr(tuple(row)) for row in db.session.execute(text(f"SELECT * FROM {table.name}"))]
    db.session.commit()

    secrets = [CLIENT_SECRET, APP_SECRET, *oauth_mock.issued_tokens()]
    assert len(secrets) > 6
    places = {"console": "\n".join(outputs), "log": caplog.text, "database": "\n".join(database),
              "dovecot log": dovecot_oauth.log_path.read_text(errors="replace")}
    for where, content in places.items():
        leaked = [secret[:12] + "…" for secret in secrets if secret in content]
        assert not leaked, f"{where} shows {leaked}"
    assert "<redacted SASL response>" in places["console"]
