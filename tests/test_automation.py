"""Auto-replies, bulk mail, loops and bounces are detected and recorded; machine mail is never answered."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from intake import autoanswer
from intake.extensions import db
from intake.models import Article, Ticket
from intake.parsing import parse_message
from intake.routing import AccountFacts, RoutingContext, route
from tests.conftest import make_message

CONTEXT = RoutingContext(default_queue="Raw", queues={"Raw"}, addresses={"support@example.com": "Raw"})
ACCOUNT = AccountFacts(id=1, name="a")


@pytest.mark.parametrize("headers, sender, flag", [
    ({"Auto-Submitted": "auto-replied"}, "Customer <customer@example.org>", "auto_reply"),
    ({"X-Autoreply": "yes"}, "Customer <customer@example.org>", "auto_reply"),
    ({"X-Auto-Response-Suppress": "All"}, "Customer <customer@example.org>", "auto_reply"),
    ({"Precedence": "bulk"}, "News <news@example.org>", "bulk"),
    ({"Precedence": "junk"}, "News <news@example.org>", "bulk"),
    ({"List-Id": "<users.lists.example.org>"}, "List <list@example.org>", "bulk"),
    ({}, "Mail Delivery System <MAILER-DAEMON@mx.example.org>", "auto_reply"),
    ({}, "postmaster@example.org", "auto_reply"),
    ({}, "Our helpdesk <support@example.com>", "loop"),
])
def test_machine_made_mail_is_flagged_and_never_answered(headers, sender, flag):
    decision = route(parse_message(make_message("Out of office", sender=sender, headers=headers)), ACCOUNT, CONTEXT)
    assert decision.flags[flag] is True
    assert decision.auto_answer is False
    assert "no automatic answer" in decision.explain()


def test_human_mail_may_be_answered():
    decision = route(parse_message(make_message("Hello", headers={"Auto-Submitted": "no"})), ACCOUNT, CONTEXT)
    assert decision.auto_answer is True and "auto_reply" not in decision.flags


def dsn(original_message_id: str, failed: str) -> bytes:
    """A delivery status notification as Postfix writes it (RFC 3464)."""
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: support@example.com
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Message-ID: <20261123100500.ABC123@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; {failed}
Original-Recipient: rfc822;{failed}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{failed}>: User unknown

--BOUNDARY
Content-Type: text/rfc822-headers

Message-ID: {original_message_id}
From: support@example.com
Subject: Re: your question

--BOUNDARY--
""".replace("\n", "\r\n").encode()


def test_bounce_attaches_to_the_ticket_it_is_about_and_records_the_failed_recipient(cli, tmp_path):
    original = tmp_path / "original.eml"
    original.write_bytes(make_message("Your question", headers={"Message-ID": "<sent.by.agent@example.com>"}))
    cli("import", str(original))
    ticket = db.session.scalars(select(Ticket)).one()
    bounce = tmp_path / "bounce.eml"
    bounce.write_bytes(dsn("<sent.by.agent@example.com>", "gone@example.org"))
    result = cli("import", str(bounce))
    assert f"follow-up {ticket.number}" in result.output
    flags = db.session.scalars(select(Article.flags).order_by(Article.id.desc())).first()
    assert flags["bounce"] is True and flags["failed_recipients"] == ["gone@example.org"]


def test_automatic_answers_are_capped_per_sender_and_hour(app):
    for _ in range(3):
        assert autoanswer.may_answer(db.session, "Someone@Example.org", limit_per_hour=3)
        autoanswer.record(db.session, "Someone@Example.org")
    db.session.commit()
    assert not autoanswer.may_answer(db.session, "someone@example.org", limit_per_hour=3)
    assert autoanswer.may_answer(db.session, "other@example.org", limit_per_hour=3)
