"""Where does a message go? ParsedMessage + account facts → Decision. Pure: no database.

A fixed, readable pipeline in the spirit of OTOBO's PostMaster:

1. detect machine-made mail (auto-reply, bulk, loop, bounce) — recorded, never answered;
2. read trusted ``X-Intake-*`` headers (trusted accounts only); ``X-Intake-Ignore`` ends here;
3. filter rules, in order (may ignore, set fields, or stop further rules);
4. a bounce attaches to the ticket of the message it is about;
5. follow-up check (:mod:`intake.followup`), with the closed-ticket policy;
6. new ticket: dispatch by recipient address or the account's fixed queue, then the
   fields set by trusted headers and rules (rules win: they are the administrator's).

Everything looked up in the database is handed in through :class:`RoutingContext`
as plain data or lookup functions, so the same function serves collection,
``intake import`` and ``intake route --explain``.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

from . import automation, followup, rules
from .parsing import ParsedMessage
from .ticket_fields import SETTABLE, truthy, validate

#: Headers that name the envelope/recipient address, most specific first.
DISPATCH_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To")
ticket_numbers_in = followup.ticket_numbers_in


class Outcome(str, enum.Enum):
    NEW_TICKET = "new-ticket"
    FOLLOW_UP = "follow-up"
    IGNORE = "ignored"


@dataclass(frozen=True)
class TicketRef:
    id: int | None  # None while the ticket is not yet flushed
    number: str | None
    queue: str | None
    state: str
    handle: Any = field(default=None, compare=False, repr=False)  # the caller's own object, passed back


@dataclass(frozen=True)
class AccountFacts:
    id: int | None
    name: str
    trusted: bool = False
    dispatch: str = "to"  # "to" or "queue"
    queue: str | None = None  # the fixed queue when dispatch == "queue"


@dataclass
class RoutingContext:
    default_queue: str
    queues: set[str]
    addresses: dict[str, str]  # system address (lower-case) → queue name
    ticket_hook: str = "Ticket#"
    rules: list[rules.CompiledRule] = field(default_factory=list)
    policy: followup.FollowUpPolicy = field(default_factory=followup.FollowUpPolicy)
    find_ticket_by_number: Callable[[str], TicketRef | None] = lambda number: None
    find_ticket_by_message_ids: Callable[[list[str]], TicketRef | None] = lambda ids: None
    ticket_senders: Callable[[TicketRef], set[str]] = lambda ticket: set()


@dataclass
class Decision:
    outcome: Outcome
    queue: str | None = None
    ticket: TicketRef | None = None
    title: str = ""
    fields: dict = field(default_factory=dict)  # new ticket: priority, state, owner, customer, tags
    updates: dict = field(default_factory=dict)  # follow-up: changes to the existing ticket
    auto_answer: bool = True  # False for machine-made mail: never answer it automatically
    steps: list[str] = field(default_factory=list)
    flags: dict = field(default_factory=dict)

    @property
    def priority(self) -> int | None:
        return self.fields.get("priority")

    @property
    def state(self) -> str | None:
        return self.fields.get("state")

    def explain(self) -> str:
        if self.outcome is Outcome.FOLLOW_UP and self.ticket:
            head = f"follow-up to ticket {self.ticket.number}"
        elif self.outcome is Outcome.NEW_TICKET:
            head = f"new ticket in queue {self.queue}"
        else:
            head = "ignored"
        return "\n".join([head, *("  - " + step for step in self.steps)])


def route(message: ParsedMessage, account: AccountFacts, context: RoutingContext) -> Decision:
    decision = Decision(outcome=Outcome.NEW_TICKET, title=message.subject.strip() or "(no subject)")

    machine = automation.detect(message, set(context.addresses))
    decision.flags.update(machine.flags())
    decision.auto_answer = not machine.machine_made
    if machine.machine_made:
        decision.steps.append("machine-made (" + "; ".join(machine.reasons) + "): no automatic answer")

    trusted, trusted_followup = _trusted_headers(message, account, decision)
    if truthy(trusted.get("ignore")):
        return _ignore(decision, "X-Intake-Ignore is set on a trusted account")

    rule_fields = _apply_rules(message, context, decision)
    if rule_fields.pop("ignore", False):
        return _ignore(decision, "a filter rule ignores the message")

    match = _bounce_target(machine, context, decision) or _follow_up(message, context, decision)
    if match is not None:
        ticket = match.ticket
        if ticket.state == "closed" and context.policy.closed_action == "new-ticket":
            decision.steps.append(f"ticket {ticket.number} is closed and closed tickets take no follow-ups: new ticket")
            decision.flags["closed_ticket"] = ticket.number
        else:
            return _as_follow_up(decision, ticket, trusted_followup, context)

    decision.queue = _dispatch(message, account, context, decision)
    _set_fields(decision, trusted, "X-Intake", context)
    _set_fields(decision, rule_fields, "filter rule", context)
    return decision


def _ignore(decision: Decision, why: str) -> Decision:
    decision.outcome = Outcome.IGNORE
    decision.steps.append(why + ": the message is ignored")
    return decision


# --- follow-ups and bounces ---
def _follow_up(message: ParsedMessage, context: RoutingContext, decision: Decision):
    match, steps = followup.find(message, context.ticket_hook, context.policy,
                                 by_number=context.find_ticket_by_number,
                                 by_message_ids=context.find_ticket_by_message_ids,
                                 senders_of=context.ticket_senders)
    decision.steps += steps
    if match is not None:
        decision.steps.append(match.how)
    return match


def _bounce_target(machine: automation.Automation, context: RoutingContext, decision: Decision):
    if not (machine.bounce and machine.original_message_id):
        return None
    ticket = context.find_ticket_by_message_ids([machine.original_message_id])
    if ticket is None:
        return None
    failed = ", ".join(machine.failed_recipients) or "unknown recipients"
    decision.steps.append(f"bounce of message {machine.original_message_id} of ticket {ticket.number} "
                          f"(failed: {failed})")
    return followup.Match(ticket, "bounce")


def _as_follow_up(decision: Decision, ticket: TicketRef, trusted_followup: dict, context: RoutingContext) -> Decision:
    decision.outcome = Outcome.FOLLOW_UP
    decision.ticket = ticket
    decision.queue = ticket.queue
    if ticket.state in ("closed", "pending") and context.policy.closed_action != "append":
        decision.updates["state"] = "open"
        decision.steps.append(f"ticket {ticket.number} was {ticket.state}: reopened")
    for name, value in trusted_followup.items():
        if name not in SETTABLE or name == "title":
            continue
        checked, refused = validate(name, value, context.queues)
        if refused:
            decision.steps.append(f"X-Intake-FollowUp-{name.title()}: {refused}")
        else:
            decision.updates[name] = checked
            decision.steps.append(f"X-Intake-FollowUp-{name.title()} sets {name} {checked}")
    if decision.updates:
        decision.flags["follow_up_updates"] = {k: v for k, v in decision.updates.items()}
    return decision


# --- dispatch ---
def _dispatch(message: ParsedMessage, account: AccountFacts, context: RoutingContext, decision: Decision) -> str:
    if account.dispatch == "queue" and account.queue:
        decision.steps.append(f"account {account.name} puts all mail into queue {account.queue}")
        return account.queue
    for header, address in recipient_candidates(message):
        queue = context.addresses.get(address.lower())
        if queue is not None:
            decision.steps.append(f"{header}: {address} is mapped to queue {queue}")
            return queue
    decision.steps.append(f"no recipient address is mapped to a queue: default queue {context.default_queue}")
    return context.default_queue


def recipient_candidates(message: ParsedMessage) -> Iterable[tuple[str, str]]:
    """(header, address) pairs in dispatch order: Delivered-To, X-Original-To, Envelope-To, To, Cc."""
    for header in DISPATCH_HEADERS:
        for _, address in getaddresses(message.header(header)):
            if address:
                yield header, address
    for header, addresses in (("To", message.to), ("Cc", message.cc)):
        for address in addresses:
            if address.email:
                yield header, address.email


# --- trusted headers and rules ---
def _trusted_headers(message: ParsedMessage, account: AccountFacts, decision: Decision) -> tuple[dict, dict]:
    fields: dict[str, str] = {}
    followups: dict[str, str] = {}
    for name, value in message.headers:
        lower = name.lower()
        if lower.startswith("x-intake-followup-"):
            followups[lower[len("x-intake-followup-"):]] = value.strip()
        elif lower.startswith("x-intake-"):
            fields[lower[len("x-intake-"):]] = value.strip()
    if (fields or followups) and not account.trusted:
        decision.steps.append(f"X-Intake-* headers ignored: account {account.name} is not trusted")
        decision.flags["untrusted_headers_ignored"] = sorted(fields) + sorted("followup-" + k for k in followups)
        return {}, {}
    return fields, followups


def _apply_rules(message: ParsedMessage, context: RoutingContext, decision: Decision) -> dict:
    merged: dict = {}
    fired = []
    for rule in context.rules:
        if not rules.matches(rule, message):
            continue
        fired.append(rule.name)
        merged.update(rule.actions)
        decision.steps.append(f"filter rule {rule.name!r} matches: " +
                              (", ".join(f"{k}={v}" for k, v in rule.actions.items()) or "no action") +
                              ("; no further rules" if rule.stop else ""))
        if rule.stop or truthy(rule.actions.get("ignore")):
            break
    if fired:
        decision.flags["rules"] = fired
    merged["ignore"] = truthy(merged.get("ignore"))
    return merged


def _set_fields(decision: Decision, values: dict, source: str, context: RoutingContext) -> None:
    applied = {}
    for name, value in values.items():
        if name not in SETTABLE:
            continue
        checked, refused = validate(name, value, context.queues)
        label = f"{source}-{name.title()}" if source == "X-Intake" else f"{source} {name}"
        if refused:
            decision.steps.append(f"{label}: {refused}")
            if name == "queue":
                decision.flags["unknown_queue"] = str(value)
            continue
        if name == "queue":
            decision.queue = checked
        elif name == "title":
            decision.title = checked
        else:
            decision.fields[name] = checked
        applied[name] = checked
        decision.steps.append(f"{label} sets {name} {checked}")
    if applied:
        key = "trusted_headers" if source == "X-Intake" else "rule_fields"
        decision.flags.setdefault(key, {}).update(applied)
