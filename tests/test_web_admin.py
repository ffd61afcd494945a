"""Administrators in the web UI (Flask test client, real Dovecot): mail accounts, queues, addresses, users,
failed mail, the audit log and the dashboard."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from intake.extensions import db
from intake.models import (AuditEntry, CollectedMessage, CollectionRun, FailedMessage, MailAccount, Queue,
                           RawMessage, SystemAddress, Ticket, User)
from tests.conftest import make_message
from tests.fixtures_web import *  # noqa: F403


def account_form(dovecot, mailbox, **extra) -> dict:
    user, password = mailbox
    form = {"name": f"imap-{user}", "protocol": "imap", "host": dovecot.host, "port": str(dovecot.imap_port),
            "username": user, "password": password, "auth_method": "password", "folder": "INBOX",
            "verify_tls": "on", "enabled": "on", "dispatch": "to", "queue": "", "validity": "valid",
            "connect_timeout": "10", "read_timeout": "10", "interval_seconds": "600",
            "max_messages_per_run": "1000", "max_message_size": "1000000", "worker_queue": "", "comment": ""}
    form.update(extra)
    return form


def add_account(client, dovecot, mailbox, **extra) -> MailAccount:
    form = account_form(dovecot, mailbox, **extra)
    response = client.post("/admin/accounts/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return db.session.scalar(select(MailAccount).where(MailAccount.name == form["name"]))


def test_account_form_validates_like_the_console_and_never_echoes_the_password(web, people, dovecot, mailbox):
    client = web(people.admin)
    bad = client.post("/admin/accounts/new", data=account_form(dovecot, mailbox, port="70000"))
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "port 70000 is out of range" in text and mailbox[1] not in text
    account = add_account(client, dovecot, mailbox)
    assert account.password == mailbox[1]  # stored (encrypted at rest by the model)
    edit = client.get(f"/admin/accounts/{account.id}/edit").get_data(as_text=True)
    assert mailbox[1] not in edit and "a password is set" in edit
    # an empty password field keeps the stored one
    form = account_form(dovecot, mailbox, password="", interval_seconds="900")
    assert client.post(f"/admin/accounts/{account.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    account = db.session.get(MailAccount, account.id)
    assert account.password == mailbox[1] and account.interval_seconds == 900
    client.post(f"/admin/accounts/{account.id}/edit", data=account_form(dovecot, mailbox, password="new-secret-pw",
                                                                             interval_seconds="900"))
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.target_type == "account")).all()
    assert [e.action for e in entries] == ["account.create", "account.update", "account.update"]
    assert entries[1].changes == {"interval_seconds": [600, 900]}
    assert entries[2].changes == {"password": "changed"}
    assert "new-secret-pw" not in client.get("/admin/audit/").get_data(as_text=True)


def test_form_fields_follow_protocol_and_default_ports_are_offered(web, people):
    page = web(people.admin).get("/admin/accounts/new").get_data(as_text=True)
    assert re.search(r'value="imaps" data-port="993" data-tls="1" data-folders="1"', page)
    assert re.search(r'value="pop3" data-port="110" data-tls="0" data-folders="0"', page)
    assert 'data-when="auth:oauth2"' in page and 'data-when="folders"' in page


def test_oauth2_account_is_added_through_the_form_with_provider_grant_and_mechanism(web, people, dovecot, mailbox, cli):
    added = cli("oauth", "providers", "add", "m365", "--kind", "microsoft", "--client-id", "app-id",
                "--client-secret-env", "CLIENT_SECRET", "--tenant", "contoso.example", env={"CLIENT_SECRET": "s3cret"})
    assert added.exit_code == 0, added.output
    client = web(people.admin)
    page = client.get("/admin/accounts/new").get_data(as_text=True)
    assert '<option value="m365"' in page and 'value="client_credentials"' in page and 'value="OAUTHBEARER"' in page
    account = add_account(client, dovecot, mailbox, auth_method="oauth2", oauth_provider="m365",
                          oauth_grant="device_code", sasl_mechanism="OAUTHBEARER", password="")
    assert account.auth_method == "oauth2" and account.oauth_provider.name == "m365"
    assert (account.oauth_grant, account.sasl_mechanism) == ("device_code", "OAUTHBEARER")
    edit = client.get(f"/admin/accounts/{account.id}/edit").get_data(as_text=True)
    assert '<option value="m365" selected' in edit and '<option value="OAUTHBEARER" selected' in edit


def test_test_configuration_shows_the_transcript_with_secrets_redacted(web, people, dovecot, mailbox):
    client = web(people.admin)
    account = add_account(client, dovecot, mailbox)
    dovecot.deliver(mailbox[0], [make_message("one")])
    response = client.post(f"/admin/accounts/{account.id}/test", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert 'data-ok="1"' in text and "OK: 1 message" in text
    assert "LOGIN" in text and "&lt;redacted&gt;" in text and mailbox[1] not in text
    assert "<html" not in text  # htmx gets a fragment; without htmx a whole page
    assert "<html" in client.post(f"/admin/accounts/{account.id}/test").get_data(as_text=True)
    wrong = add_account(client, dovecot, (mailbox[0], "wrong-password"), name="wrong")
    failed = client.post(f"/admin/accounts/{wrong.id}/test").get_data(as_text=True)
    assert 'data-ok="0"' in failed and "refused the login" in failed


def test_browse_mailbox_lists_messages_without_collecting_them(web, people, dovecot, mailbox):
    client = web(people.admin)
    account = add_account(client, dovecot, mailbox)
    dovecot.deliver(mailbox[0], [make_message("Browse me 1"), make_message("Browse me 2")])
    page = client.get(f"/admin/accounts/{account.id}/browse").get_data(as_text=True)
    assert "Browse me 1" in page and "Browse me 2" in page and "not yet collected" in page
    assert dovecot.mailbox_count(mailbox[0]) == 2
    assert db.session.scalar(select(CollectedMessage.id).limit(1)) is None


def test_fetch_now_without_a_worker_says_how_to_start_one(web, people, dovecot, mailbox):
    client = web(people.admin)
    account = add_account(client, dovecot, mailbox)
    response = client.post(f"/admin/accounts/{account.id}/fetch", follow_redirects=True)
    assert "No collection worker is running" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(MailAccount, account.id).pending_since is None  # the claim was released


def test_fetch_now_runs_a_collection_and_the_progress_panel_reports_it(app, web, people, dovecot, mailbox):
    from intake.jobs import EmbeddedRunner

    client = web(people.admin)
    account = add_account(client, dovecot, mailbox)
    dovecot.deliver(mailbox[0], [make_message(f"Fetch {i}") for i in range(3)])
    app.config["SCHEDULER_TICK_SECONDS"] = 3600
    runner = EmbeddedRunner(app)  # jobs only: its scheduler thread is not started
    try:
        client.post(f"/admin/accounts/{account.id}/fetch")
        runner.executor.shutdown(wait=True)
    finally:
        app.extensions.pop("intake_embedded", None)
    panel = client.get(f"/admin/accounts/{account.id}/progress").get_data(as_text=True)
    assert 'data-status="ok"' in panel and 'id="count-stored">3<' in panel and "hx-trigger" not in panel
    assert db.session.query(Ticket).count() == 3


def test_deleting_an_account_warns_what_goes_and_needs_its_name(web, people, dovecot, mailbox):
    client = web(people.admin)
    account = add_account(client, dovecot, mailbox)
    account_id, name = account.id, account.name
    db.session.add(CollectionRun(account_id=account_id, trigger="manual", status="ok"))
    db.session.commit()
    page = client.get(f"/admin/accounts/{account_id}/delete").get_data(as_text=True)
    assert "Consider disabling it instead" in page and 'id="impact-runs">1<' in page
    assert client.post(f"/admin/accounts/{account_id}/delete", data={"confirm_name": "nope"}).status_code == 422
    assert client.post(f"/admin/accounts/{account_id}/delete", data={"confirm_name": name}).status_code == 302
    db.session.expunge_all()
    assert db.session.get(MailAccount, account_id) is None and db.session.query(CollectionRun).count() == 0
    assert db.session.scalars(select(AuditEntry.action)).all()[-1] == "account.delete"


def test_queues_addresses_users_and_grants_are_managed_and_audited(web, people):
    client = web(people.admin)
    client.post("/admin/queues", data={"name": "Billing", "comment": "invoices"})
    billing = db.session.scalar(select(Queue).where(Queue.name == "Billing"))
    client.post("/admin/addresses", data={"email": "Billing@Example.com", "queue": str(billing.id)})
    assert db.session.scalar(select(SystemAddress.queue_id).where(SystemAddress.email == "billing@example.com")) == billing.id
    client.post("/admin/users/new", data={"email": "bob@example.com", "name": "Bob", "password": "bob-password-1",
                                          "role": "agent", "active": "on", "queues": [str(billing.id)]})
    bob = db.session.scalar(select(User).where(User.email == "bob@example.com"))
    assert [q.name for q in bob.queues] == ["Billing"] and not bob.is_admin
    bob_client = web(Person("bob@example.com", bob.id, "bob-password-1"))
    assert 'data-queue="Billing"' in bob_client.get("/").get_data(as_text=True)
    client.post(f"/admin/queues/{billing.id}", data={"name": "Invoices", "comment": "invoices"})
    assert client.post(f"/admin/users/{people.admin.id}", data={"email": people.admin.email, "role": "agent",
                                                                 "active": "on"}).status_code == 422  # not yourself
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["queue.create", "address.create", "user.create", "queue.update"]
    log = client.get("/admin/audit/").get_data(as_text=True)
    assert "Billing → Invoices" in log and "admin@example.com" in log


def test_failed_mail_is_shown_reprocessed_and_deleted(app, web, people):
    raw = make_message("Once failed", body="Please help.")
    row = RawMessage(sha256="0" * 64, size=len(raw), data=raw)
    failed = FailedMessage(raw=row, error="ValueError: parser crashed")
    db.session.add(failed)
    db.session.commit()
    client = web(people.admin)
    assert "parser crashed" in client.get("/admin/failed/").get_data(as_text=True)
    page = client.get(f"/admin/failed/{failed.id}").get_data(as_text=True)
    assert "Once failed" in page and "Reprocess" in page
    done = client.post(f"/admin/failed/{failed.id}/reprocess", follow_redirects=True).get_data(as_text=True)
    assert "Stored as new-ticket" in done
    assert db.session.scalar(select(Ticket.title).where(Ticket.title == "Once failed"))
    assert client.post(f"/admin/failed/{failed.id}/delete").status_code == 302
    assert db.session.query(FailedMessage).count() == 0


def test_dashboard_charts_intake_per_account_from_the_runs(web, people):
    account = MailAccount(name="charted", protocol="imap", host="localhost", username="u")
    db.session.add(account)
    db.session.flush()
    db.session.add_all([CollectionRun(account_id=account.id, trigger="schedule", status="ok", stored=5),
                        CollectionRun(account_id=account.id, trigger="schedule", status="error", error="down")])
    db.session.commit()
    page = web(people.admin).get("/admin/").get_data(as_text=True)
    data = json.loads(re.search(r'id="dashboard-data">(.*?)</script>', page, re.S).group(1))
    assert data["accounts"]["charted"]["stored"][-1] == 5 and data["accounts"]["charted"]["errors"][-1] == 1
    assert "chart-4.6.1.umd.min.js" in page


def test_oauth_providers_are_added_edited_and_deleted_in_the_web_ui(web, people):
    from intake.models import OAuthProviderConfig
    from sqlalchemy import text

    assert web(people.agent).get("/oauth/providers/new").status_code == 403
    client = web(people.admin)
    page = client.get("/oauth/providers/new").get_data(as_text=True)
    assert "/oauth/callback" in page and '<option value="microsoft" selected' in page
    bad = client.post("/oauth/providers/new", data={"name": "has space", "kind": "microsoft", "client_id": "x"})
    assert bad.status_code == 422 and "without spaces" in bad.get_data(as_text=True)
    form = {"name": "m365", "kind": "microsoft", "client_id": "app-id", "client_secret": "top-secret-value",
            "tenant": "contoso.example", "scopes": ""}
    assert client.post("/oauth/providers/new", data=form).status_code == 302
    row = db.session.scalar(select(OAuthProviderConfig).where(OAuthProviderConfig.name == "m365"))
    assert row.client_secret == "top-secret-value"
    stored = db.session.execute(text("SELECT client_secret FROM oauth_providers")).scalar_one()
    assert "top-secret-value" not in stored
    edit = client.get(f"/oauth/providers/{row.id}/edit").get_data(as_text=True)
    assert "top-secret-value" not in edit and "a secret is set" in edit
    form.update(client_secret="", tenant="fabrikam.example")
    assert client.post(f"/oauth/providers/{row.id}/edit", data=form).status_code == 302
    db.session.expire_all()
    row = db.session.get(OAuthProviderConfig, row.id)
    assert (row.tenant, row.client_secret) == ("fabrikam.example", "top-secret-value"), "empty secret = unchanged"
    assert "m365" in client.get("/admin/audit/").get_data(as_text=True)
    assert client.post(f"/oauth/providers/{row.id}/delete").status_code == 302
    assert db.session.scalar(select(OAuthProviderConfig)) is None
