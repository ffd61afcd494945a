"""Replies become follow-ups: real clients' reply shapes, changed subjects, the hijack guard, closed tickets."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from intake.extensions import db
from intake.followup import outgoing_message_id
from intake.models import Article, Ticket, User
from tests.conftest import make_message

ORIGINAL_ID = "<CAF=first.contact.1234@mail.example.org>"


def _import(cli, tmp_path, raw: bytes, *args) -> str:
    path = tmp_path / f"m{len(list(tmp_path.iterdir()))}.eml"
    path.write_bytes(raw)
    result = cli("import", str(path), *args)
    assert result.exit_code == 0, result.output
    return result.output


def _first_ticket(cli, tmp_path) -> Ticket:
    _import(cli, tmp_path, make_message("Printer on floor 3 is broken",
                                        headers={"Message-ID": ORIGINAL_ID}))
    return db.session.scalars(select(Ticket)).one()


def _articles(ticket: Ticket) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Article.id)).where(Article.ticket_id == ticket.id))


def reply(client: str, ticket_number: str) -> bytes:
    """Replies written the way common clients write them (headers and quoting)."""
    quote = "> Printer on floor 3 is broken\n> Hello, I need help.\n"
    if client == "outlook":  # Outlook: "AW:"/"RE:", Thread-Index, In-Reply-To but often no References
        return make_message(f"AW: [Ticket#{ticket_number}] Printer on floor 3 is broken", headers={
            "In-Reply-To": ORIGINAL_ID, "Thread-Topic": "Printer on floor 3 is broken",
            "Thread-Index": "AQHZ1234567890abcdef==", "X-MS-Has-Attach": "",
            "Content-Language": "de-DE"}, body="Still broken.\n\n-----Original Message-----\n" + quote)
    if client == "thunderbird":  # Thunderbird: "Re:", In-Reply-To and References, "On … wrote:"
        return make_message("Re: Printer on floor 3 is broken", headers={
            "In-Reply-To": ORIGINAL_ID, "References": ORIGINAL_ID,
            "User-Agent": "Mozilla/5.0 Thunderbird/115.0"},
            body="Any news?\n\nOn 23.11.26 10:00, Customer wrote:\n" + quote)
    if client == "gmail":  # Gmail: References chain with its own ids, quoted in gmail_quote
        return make_message("Re: Printer on floor 3 is broken", headers={
            "In-Reply-To": "<CAJ=unknown.to.us@mail.gmail.com>",
            "References": f"{ORIGINAL_ID} <CAJ=unknown.to.us@mail.gmail.com>"},
            body="Thanks!\n\nOn Mon, Nov 23, 2026 at 10:00 AM Customer <customer@example.org> wrote:\n" + quote)
    if client == "apple":  # Apple Mail: "Re:", both headers, quoting with "> "
        return make_message("Re: Printer on floor 3 is broken", headers={
            "In-Reply-To": ORIGINAL_ID, "References": ORIGINAL_ID, "X-Mailer": "Apple Mail (2.3774)"},
            body="It works now.\n\n> On 23. Nov 2026, at 10:00, Customer wrote:\n" + quote)
    raise AssertionError(client)


@pytest.mark.parametrize("client", ["outlook", "thunderbird", "gmail", "apple"])
def test_replies_of_common_clients_thread_onto_the_ticket(client, cli, tmp_path):
    ticket = _first_ticket(cli, tmp_path)
    output = _import(cli, tmp_path, reply(client, ticket.number))
    assert f"follow-up {ticket.number}" in output
    assert _articles(ticket) == 2
    assert db.session.scalar(select(func.count(Ticket.id))) == 1


def test_reply_to_our_own_message_id_threads_even_with_a_new_subject(app, cli, tmp_path):
    ticket = _first_ticket(cli, tmp_path)
    ours = outgoing_message_id(ticket.number, app.config["MESSAGE_ID_DOMAIN"])
    _import(cli, tmp_path, make_message("Completely different subject", headers={"In-Reply-To": f"<{ours}>"}))
    assert _articles(ticket) == 2


def test_hijack_guard_accepts_subject_only_follow_ups_from_known_senders(app, cli, tmp_path):
    app.config["FOLLOWUP_SUBJECT_NEEDS_KNOWN_SENDER"] = True
    ticket = _first_ticket(cli, tmp_path)
    stranger = make_message(f"Re: [Ticket#{ticket.number}] give me the data", sender="Mallory <mallory@evil.test>")
    output = _import(cli, tmp_path, stranger)
    assert "new-ticket" in output and _articles(ticket) == 1
    known = make_message(f"Re: [Ticket#{ticket.number}] more", sender="Customer <CUSTOMER@example.org>")
    assert f"follow-up {ticket.number}" in _import(cli, tmp_path, known)


@pytest.mark.parametrize("policy, outcome, state", [("reopen", "follow-up", "open"),
                                                     ("append", "follow-up", "closed"),
                                                     ("new-ticket", "new-ticket", "closed")])
def test_follow_up_to_a_closed_ticket_follows_the_setting(policy, outcome, state, app, cli, tmp_path):
    app.config["FOLLOWUP_CLOSED_ACTION"] = policy
    ticket = _first_ticket(cli, tmp_path)
    ticket.state = "closed"
    db.session.commit()
    output = _import(cli, tmp_path, reply("thunderbird", ticket.number))
    assert outcome in output
    db.session.rollback()
    assert db.session.get(Ticket, ticket.id).state == state


def test_ticket_number_in_the_body_counts_only_when_enabled(app, cli, tmp_path):
    ticket = _first_ticket(cli, tmp_path)
    body_only = make_message("Question", body=f"About Ticket#{ticket.number}: is there news?")
    assert "new-ticket" in _import(cli, tmp_path, body_only)
    app.config["FOLLOWUP_SEARCH_BODY"] = True
    body_only = make_message("Question again", body=f"About Ticket#{ticket.number}: is there news?")
    assert f"follow-up {ticket.number}" in _import(cli, tmp_path, body_only)


def test_trusted_follow_up_headers_change_the_existing_ticket(cli, dovecot, mailbox, certs, tmp_path):
    from tests.conftest import account_args

    user, password = mailbox
    cli("queues", "add", "Second level")
    db.session.add(User(email="agent@example.com", password_hash="x"))
    db.session.commit()
    cli(*account_args(dovecot, "imaps", user, name="acct", ca_file=str(certs.ca_cert)), "--trusted",
        env={"MAILBOX_PASSWORD": password})
    dovecot.deliver(user, [make_message("monitoring alert", headers={"Message-ID": ORIGINAL_ID,
                                                                    "X-Intake-FollowUp-State": "closed"})])
    cli("fetch", "acct")
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.state == "new", "FollowUp-* headers do nothing on a new ticket"
    dovecot.deliver(user, [make_message(f"Re: [Ticket#{ticket.number}] monitoring alert", headers={
        "X-Intake-FollowUp-Queue": "Second level", "X-Intake-FollowUp-Owner": "agent@example.com",
        "X-Intake-FollowUp-Tags": "escalated, night", "X-Intake-FollowUp-Priority": "high"})])
    cli("fetch", "acct")
    db.session.rollback()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.queue.name == "Second level" and ticket.priority == 4
    assert ticket.owner_id is not None and ticket.tags == ["escalated", "night"]
