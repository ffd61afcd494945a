"""Mail lands in the right queue: by recipient address, or the account's fixed queue; trusted headers."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from intake.extensions import db
from intake.models import Article, Ticket
from tests.conftest import account_args, make_message


@pytest.fixture
def collect(cli, dovecot, mailbox, certs):
    """Deliver messages to a fresh mailbox and collect them through account 'acct' with extra options."""
    user, password = mailbox

    def run(messages, *options):
        dovecot.deliver(user, messages)
        added = cli(*account_args(dovecot, "imaps", user, name="acct", ca_file=str(certs.ca_cert)), *options,
                    env={"MAILBOX_PASSWORD": password})
        assert added.exit_code == 0, added.output
        fetched = cli("fetch", "acct")
        assert fetched.exit_code == 0, fetched.output
        return {t.title: t for t in db.session.scalars(select(Ticket))}
    return run


def test_dispatch_by_recipient_address(cli, collect):
    for queue in ("Sales", "Billing"):
        cli("queues", "add", queue)
    cli("addresses", "add", "sales@example.com", "--queue", "Sales")
    cli("addresses", "add", "billing@example.com", "--queue", "Billing")
    tickets = collect([
        make_message("to sales", to="Sales Team <SALES@example.com>"),
        make_message("cc billing", to="someone@else.org", headers={"Cc": "billing@example.com"}),
        make_message("delivered-to wins", to="sales@example.com", headers={"Delivered-To": "billing@example.com"}),
        make_message("x-original-to", to="nobody@else.org", headers={"X-Original-To": "sales@example.com"}),
        make_message("unmapped", to="random@example.com"),
    ])
    assert tickets["to sales"].queue.name == "Sales"
    assert tickets["cc billing"].queue.name == "Billing"
    assert tickets["delivered-to wins"].queue.name == "Billing"
    assert tickets["x-original-to"].queue.name == "Sales"
    assert tickets["unmapped"].queue.name == "Raw"


def test_dispatch_into_the_accounts_queue(cli, collect):
    cli("queues", "add", "Sales")
    cli("queues", "add", "Hotline")
    cli("addresses", "add", "sales@example.com", "--queue", "Sales")
    tickets = collect([make_message("address ignored", to="sales@example.com")],
                      "--dispatch", "queue", "--queue", "Hotline")
    assert tickets["address ignored"].queue.name == "Hotline"


def test_dispatch_queue_without_a_queue_is_refused(cli, dovecot, mailbox):
    user, password = mailbox
    result = cli(*account_args(dovecot, "imap", user), "--dispatch", "queue", env={"MAILBOX_PASSWORD": password})
    assert result.exit_code == 1
    assert "dispatch 'queue' needs a queue" in result.output


TRUSTED_HEADERS = {
    "X-Intake-Queue": "Escalation",
    "X-Intake-Priority": "5",
    "X-Intake-State": "open",
    "X-Intake-Title": "Set by the monitoring system",
}


def test_trusted_account_headers_set_ticket_fields(cli, collect):
    cli("queues", "add", "Escalation")
    tickets = collect([
        make_message("alert", headers=TRUSTED_HEADERS),
        make_message("ignored one", headers={"X-Intake-Ignore": "yes"}),
        make_message("unknown queue", headers={"X-Intake-Queue": "Nope"}),
    ], "--trusted")
    ticket = tickets["Set by the monitoring system"]
    assert (ticket.queue.name, ticket.priority, ticket.state) == ("Escalation", 5, "open")
    assert "ignored one" not in tickets
    fallback = tickets["unknown queue"]
    assert fallback.queue.name == "Raw"
    flags = db.session.scalar(select(Article.flags).where(Article.ticket_id == fallback.id))
    assert flags["unknown_queue"] == "Nope"


def test_untrusted_account_ignores_every_intake_header(cli, collect):
    cli("queues", "add", "Escalation")
    tickets = collect([
        make_message("alert", headers=TRUSTED_HEADERS),
        make_message("not ignored", headers={"X-Intake-Ignore": "yes"}),
    ])
    ticket = tickets["alert"]
    assert (ticket.queue.name, ticket.priority, ticket.state) == ("Raw", 3, "new")
    assert "not ignored" in tickets
    flags = db.session.scalar(select(Article.flags).where(Article.ticket_id == ticket.id))
    assert flags["untrusted_headers_ignored"] == ["priority", "queue", "state", "title"]


def test_reply_with_ticket_number_becomes_a_follow_up(cli, collect, dovecot, mailbox):
    tickets = collect([make_message("first contact")])
    number = tickets["first contact"].number
    user, _ = mailbox
    dovecot.deliver(user, [make_message(f"Re: [Ticket#{number}] first contact", body="more details")])
    assert cli("fetch", "acct").exit_code == 0
    db.session.rollback()
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    assert len(ticket.articles) == 2
    assert db.session.scalar(select(db.func.count(Ticket.id))) == 1
