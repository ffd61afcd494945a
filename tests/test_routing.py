"""Routing as a pure function: unit tests with hand-made ParsedMessages (no server, no database)."""
from __future__ import annotations

from intake.parsing import parse_message
from intake.routing import AccountFacts, Outcome, RoutingContext, TicketRef, route, ticket_numbers_in
from tests.conftest import make_message

CONTEXT = RoutingContext(default_queue="Raw", queues={"Raw", "Sales", "VIP"},
                         addresses={"sales@example.com": "Sales"})
TRUSTED = AccountFacts(id=1, name="t", trusted=True)
UNTRUSTED = AccountFacts(id=2, name="u", trusted=False)


def decide(raw: bytes, account=UNTRUSTED, context=CONTEXT):
    return route(parse_message(raw), account, context)


def test_ticket_numbers_in_subjects():
    assert ticket_numbers_in("Re: [Ticket#2026112310000017] help", "Ticket#") == ["2026112310000017"]
    assert ticket_numbers_in("AW: ticket# 2026112310000017", "Ticket#") == ["2026112310000017"]
    assert ticket_numbers_in("Order 2026112310000017", "Ticket#") == []


def test_default_queue_when_nothing_matches():
    decision = decide(make_message("hello", to="x@y.org"))
    assert decision.outcome is Outcome.NEW_TICKET and decision.queue == "Raw"
    assert "default queue Raw" in decision.explain()


def test_address_match_is_case_insensitive():
    assert decide(make_message("hi", to="Sales@Example.COM")).queue == "Sales"


def test_follow_up_by_subject_and_by_references():
    ticket = TicketRef(id=7, number="2026112310000017", queue="VIP", state="closed")
    context = RoutingContext(default_queue="Raw", queues={"Raw"}, addresses={},
                             find_ticket_by_number=lambda n: ticket if n == ticket.number else None,
                             find_ticket_by_message_ids=lambda ids: ticket if "known@x" in ids else None)
    by_subject = decide(make_message("Re: [Ticket#2026112310000017] hi"), context=context)
    assert by_subject.outcome is Outcome.FOLLOW_UP and by_subject.ticket == ticket
    by_reference = decide(make_message("changed subject", headers={"In-Reply-To": "<known@x>"}), context=context)
    assert by_reference.outcome is Outcome.FOLLOW_UP
    unknown = decide(make_message("Re: [Ticket#2026112399999999] hi"), context=context)
    assert unknown.outcome is Outcome.NEW_TICKET and "does not exist" in unknown.explain()


def test_trusted_priority_words_and_bad_values():
    decision = decide(make_message("x", headers={"X-Intake-Priority": "very high", "X-Intake-State": "bogus"}),
                      account=TRUSTED)
    assert decision.priority == 5 and decision.state is None
    assert "X-Intake-State: state 'bogus' is not one of" in decision.explain()
