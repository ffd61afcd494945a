"""All six protocols collect real mail from Dovecot into tickets; TLS is real and verified."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from intake.extensions import db
from intake.models import Article, CollectionRun, Ticket
from tests.conftest import PORT_ATTRIBUTES, account_args, make_message

PROTOCOLS = list(PORT_ATTRIBUTES)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_protocol_collects_every_message_into_a_ticket(protocol, cli, dovecot, mailbox, certs):
    user, password = mailbox
    subjects = [f"{protocol} message {i}" for i in range(7)]
    dovecot.deliver(user, [make_message(s) for s in subjects])

    added = cli(*account_args(dovecot, protocol, user, name="acct", ca_file=str(certs.ca_cert)),
                env={"MAILBOX_PASSWORD": password})
    assert added.exit_code == 0, added.output
    result = cli("fetch", "acct")
    assert result.exit_code == 0, result.output
    assert "7 stored" in result.output

    titles = sorted(db.session.scalars(select(Ticket.title)))
    assert titles == sorted(subjects)
    assert db.session.scalar(select(func.count(Article.id))) == 7
    assert dovecot.mailbox_count(user) == 0, "delete mode removes collected mail after the commit"
    run = db.session.scalars(select(CollectionRun)).one()
    assert (run.status, run.listed, run.fetched, run.stored, run.removed) == ("ok", 7, 7, 7, 7)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_batches_span_several_round_trips(protocol, cli, app, dovecot, mailbox, certs):
    """More messages than one batch: every batch is stored, committed and removed."""
    app.config["FETCH_BATCH_SIZE"] = 4
    user, password = mailbox
    dovecot.deliver(user, [make_message(f"batch {i}") for i in range(11)])
    cli(*account_args(dovecot, protocol, user, name="acct", ca_file=str(certs.ca_cert)),
        env={"MAILBOX_PASSWORD": password})
    result = cli("fetch", "acct", "--json")
    report = json.loads(result.output)[0]
    assert report["stored"] == 11 and report["removed"] == 11
    assert db.session.scalar(select(func.count(Ticket.id))) == 11
    assert dovecot.mailbox_count(user) == 0


@pytest.mark.parametrize("plain, upgraded", [("imap", "imaptls"), ("pop3", "pop3tls")])
def test_starttls_really_upgrades(plain, upgraded, cli, dovecot_strict, mailbox, certs):
    """The strict server refuses a plaintext login; the STARTTLS/STLS variant logs in and collects."""
    user, password = mailbox
    dovecot_strict.add_user(user, password)
    dovecot_strict.deliver(user, [make_message("over tls")])
    env = {"MAILBOX_PASSWORD": password}
    cli(*account_args(dovecot_strict, plain, user, name="plain"), env=env)
    cli(*account_args(dovecot_strict, upgraded, user, name="tls", ca_file=str(certs.ca_cert)), env=env)

    refused = cli("fetch", "plain")
    assert refused.exit_code == 1
    assert "refused the login" in refused.output
    assert db.session.scalar(select(func.count(Ticket.id))) == 0

    collected = cli("fetch", "tls")
    assert collected.exit_code == 0, collected.output
    assert db.session.scalars(select(Ticket.title)).all() == ["over tls"]


@pytest.mark.parametrize("protocol", ["imaps", "imaptls", "pop3s", "pop3tls"])
def test_untrusted_certificate_is_refused_unless_its_ca_is_given(protocol, cli, dovecot, mailbox, certs):
    user, password = mailbox
    dovecot.deliver(user, [make_message("tls check")])
    env = {"MAILBOX_PASSWORD": password}
    cli(*account_args(dovecot, protocol, user, name="system-cas"), env=env)
    cli(*account_args(dovecot, protocol, user, name="wrong-ca", ca_file=str(certs.other_ca_cert)), env=env)

    for name in ("system-cas", "wrong-ca"):
        result = cli("check", name)
        assert result.exit_code == 1
        assert "certificate" in result.output and "not trusted" in result.output

    assert cli("accounts", "set", "wrong-ca", "--ca-file", str(certs.ca_cert)).exit_code == 0
    assert cli("check", "wrong-ca").exit_code == 0
    # Turning verification off is explicit, and visible in the account.
    assert cli("accounts", "set", "system-cas", "--no-verify-tls").exit_code == 0
    shown = json.loads(cli("accounts", "show", "system-cas", "--json").output)
    assert shown["verify_tls"] is False
    assert cli("fetch", "system-cas").exit_code == 0


def test_connection_refused_is_one_clear_line(cli, dovecot, mailbox):
    user, password = mailbox
    cli("accounts", "add", "--name", "down", "--protocol", "imap", "--host", "127.0.0.1", "--port", "1",
        "--username", user, "--password-env", "MAILBOX_PASSWORD", env={"MAILBOX_PASSWORD": password})
    result = cli("fetch", "down")
    assert result.exit_code == 1
    assert "127.0.0.1:1 refused the connection" in result.output
    assert "Traceback" not in result.output
