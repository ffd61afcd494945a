"""Filter rules: ordered, matching headers and body with RE2, setting fields, ignoring, stopping."""
from __future__ import annotations

import json
import time

from sqlalchemy import select

from intake.extensions import db
from intake.models import Article, Ticket
from intake.parsing import parse_message
from intake.routing import AccountFacts, Outcome, RoutingContext, route
from intake.rules import compile_rule
from tests.conftest import make_message


def _route_file(cli, tmp_path, raw: bytes, *args):
    path = tmp_path / "m.eml"
    path.write_bytes(raw)
    result = cli("route", str(path), "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_rules_set_fields_in_order_and_stop(cli, tmp_path):
    cli("queues", "add", "Billing")
    cli("queues", "add", "VIP")
    assert cli("rules", "add", "invoices", "--match", "subject~(?i)invoice", "--set-queue", "Billing",
               "--set-priority", "4", "--add-tag", "finance").exit_code == 0
    assert cli("rules", "add", "vip", "--match", "from~@bigcustomer\\.com", "--set-queue", "VIP", "--stop").exit_code == 0
    assert cli("rules", "add", "never", "--match", "subject~.", "--set-state", "closed").exit_code == 0
    listed = json.loads(cli("rules", "list", "--json").output)
    assert [r["name"] for r in listed] == ["invoices", "vip", "never"]

    decision = _route_file(cli, tmp_path, make_message("Invoice 42", sender="Boss <boss@bigcustomer.com>"))
    assert decision["queue"] == "VIP", "later rules override earlier ones"
    assert decision["fields"] == {"priority": 4, "tags": ["finance"]}, "the stop rule kept 'never' from running"
    assert decision["flags"]["rules"] == ["invoices", "vip"]

    plain = _route_file(cli, tmp_path, make_message("Hello"))
    assert plain["fields"] == {"state": "closed"} and plain["flags"]["rules"] == ["never"]


def test_rule_on_a_header_and_body_with_negation_and_any(cli, tmp_path):
    cli("rules", "add", "spam", "--match", "header:X-Spam-Flag~^YES$", "--match", "body~(?i)viagra", "--any",
        "--ignore")
    cli("rules", "add", "not-internal", "--match", "from!~@example\\.com$", "--add-tag", "external")
    assert _route_file(cli, tmp_path, make_message("hi", headers={"X-Spam-Flag": "YES"}))["outcome"] == "ignored"
    assert _route_file(cli, tmp_path, make_message("hi", body="cheap VIAGRA"))["outcome"] == "ignored"
    external = _route_file(cli, tmp_path, make_message("hi"))
    assert external["outcome"] == "new-ticket" and external["fields"]["tags"] == ["external"]


def test_ignored_message_is_collected_but_makes_no_ticket(cli, dovecot, mailbox, certs):
    from tests.conftest import account_args

    user, password = mailbox
    cli("rules", "add", "drop-newsletters", "--match", "subject~^Newsletter", "--ignore")
    dovecot.deliver(user, [make_message("Newsletter November"), make_message("Real question")])
    cli(*account_args(dovecot, "pop3s", user, name="acct", ca_file=str(certs.ca_cert)),
        env={"MAILBOX_PASSWORD": password})
    cli("fetch", "acct")
    assert db.session.scalars(select(Ticket.title)).all() == ["Real question"]
    assert dovecot.mailbox_count(user) == 0


def test_route_explain_prints_every_step(cli, tmp_path):
    cli("queues", "add", "Sales")
    cli("addresses", "add", "sales@example.com", "--queue", "Sales")
    path = tmp_path / "m.eml"
    path.write_bytes(make_message("hi", to="sales@example.com"))
    result = cli("route", str(path), "--explain")
    assert result.output.splitlines() == ["new ticket in queue Sales", "  - To: sales@example.com is mapped to queue Sales"]
    assert db.session.scalar(select(db.func.count(Article.id))) == 0, "route stores nothing"


def test_bad_rules_are_refused_with_what_to_fix(cli):
    cases = [
        (["--match", "subject~(a)\\1", "--ignore"], "is not a valid RE2 expression"),
        (["--match", "subjekt~x", "--ignore"], "unknown field 'subjekt'"),
        (["--match", "subject", "--ignore"], "must look like FIELD~PATTERN"),
        (["--match", "subject~x"], "does nothing"),
        (["--match", "subject~x", "--set-queue", "Nope"], "there is no queue 'Nope'"),
    ]
    for args, message in cases:
        result = cli("rules", "add", "bad", *args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)


def test_pathological_patterns_cannot_hang_the_worker():
    """(a+)+$ takes exponential time in backtracking engines; RE2 is linear."""
    rule = compile_rule("evil", [{"field": "body", "pattern": "(a+)+$"}], {"ignore": True})
    context = RoutingContext(default_queue="Raw", queues={"Raw"}, addresses={}, rules=[rule])
    message = parse_message(make_message("x", body="a" * 200_000 + "!"))
    start = time.perf_counter()
    decision = route(message, AccountFacts(id=1, name="a"), context)
    assert time.perf_counter() - start < 2.0
    assert decision.outcome is Outcome.NEW_TICKET


def test_rules_can_be_deleted(cli):
    cli("rules", "add", "temp", "--match", "subject~x", "--ignore")
    assert cli("rules", "delete", "temp").exit_code == 0
    assert json.loads(cli("rules", "list", "--json").output) == []
