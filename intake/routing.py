"""Where does a message go? ParsedMessage + account facts → Decision. Pure: no database.

The pipeline is fixed and readable, in the spirit of OTOBO's PostMaster:

1. follow-up check (ticket number in the subject, or a known Message-ID in
   In-Reply-To/References),
2. trusted ``X-Intake-*`` headers (trusted accounts only),
3. dispatch: by recipient address, or the account's fixed queue,
4. the outcome: new ticket / follow-up / ignored.

Everything that is looked up in the database is handed in through
:class:`RoutingContext` as plain data or a lookup function, so the same function
serves collection, ``intake import`` and ``intake route --explain``.
"""
from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from email.utils import getaddresses

from .parsing import ParsedMessage

#: Headers that name the envelope/recipient address, most specific first.
DISPATCH_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To")
STATES = ("new", "open", "pending", "closed")
PRIORITY_WORDS = {"very low": 1, "low": 2, "normal": 3, "high": 4, "very high": 5}
TRUE_WORDS = {"1", "yes", "true", "on"}


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
    find_ticket_by_number: Callable[[str], TicketRef | None] = lambda number: None
    find_ticket_by_message_ids: Callable[[list[str]], TicketRef | None] = lambda ids: None


@dataclass
class Decision:
    outcome: Outcome
    queue: str | None = None
    ticket: TicketRef | None = None
    title: str = ""
    priority: int | None = None
    state: str | None = None
    steps: list[str] = field(default_factory=list)
    flags: dict = field(default_factory=dict)

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
    trusted = _trusted_headers(message, account, decision)

    if _truthy(trusted.get("ignore")):
        decision.outcome = Outcome.IGNORE
        decision.steps.append("X-Intake-Ignore is set on a trusted account: the message is ignored")
        return decision

    ticket = _find_follow_up(message, context, decision)
    if ticket is not None:
        decision.outcome = Outcome.FOLLOW_UP
        decision.ticket = ticket
        decision.queue = ticket.queue
        return decision

    decision.queue = _dispatch(message, account, context, decision)
    _apply_trusted(trusted, context, decision)
    return decision


# --- follow-ups ---
def _find_follow_up(message: ParsedMessage, context: RoutingContext, decision: Decision) -> TicketRef | None:
    for number in ticket_numbers_in(message.subject, context.ticket_hook):
        ticket = context.find_ticket_by_number(number)
        if ticket is not None:
            decision.steps.append(f"the subject names ticket {number}")
            return ticket
        decision.steps.append(f"the subject names ticket {number}, which does not exist")
    referenced = [*message.in_reply_to, *reversed(message.references)]
    if referenced:
        ticket = context.find_ticket_by_message_ids(referenced)
        if ticket is not None:
            decision.steps.append(f"In-Reply-To/References name a message of ticket {ticket.number}")
            return ticket
    return None


def ticket_numbers_in(subject: str, hook: str) -> list[str]:
    """Ticket numbers tagged in a subject: ``[Ticket#2026112310000017]`` or ``Ticket#2026…``."""
    return re.findall(re.escape(hook) + r"\s*:?\s*(\d{10,20})", subject or "", flags=re.IGNORECASE)


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


# --- trusted headers ---
def _trusted_headers(message: ParsedMessage, account: AccountFacts, decision: Decision) -> dict[str, str]:
    found = {name[len("X-Intake-"):].lower(): value.strip()
             for name, value in message.headers if name.lower().startswith("x-intake-")}
    if found and not account.trusted:
        decision.steps.append(f"X-Intake-* headers ignored: account {account.name} is not trusted")
        decision.flags["untrusted_headers_ignored"] = sorted(found)
        return {}
    return found


def _apply_trusted(trusted: dict[str, str], context: RoutingContext, decision: Decision) -> None:
    applied: dict[str, str] = {}
    if queue := trusted.get("queue"):
        if queue in context.queues:
            decision.queue = queue
            applied["queue"] = queue
            decision.steps.append(f"X-Intake-Queue sets queue {queue}")
        else:
            decision.flags["unknown_queue"] = queue
            decision.steps.append(f"X-Intake-Queue names unknown queue {queue!r}: normal dispatch kept")
    if priority := trusted.get("priority"):
        value = _priority(priority)
        if value is None:
            decision.steps.append(f"X-Intake-Priority {priority!r} is not 1-5 or a priority name: ignored")
        else:
            decision.priority = value
            applied["priority"] = str(value)
            decision.steps.append(f"X-Intake-Priority sets priority {value}")
    if state := trusted.get("state"):
        if state.lower() in STATES:
            decision.state = state.lower()
            applied["state"] = decision.state
            decision.steps.append(f"X-Intake-State sets state {decision.state}")
        else:
            decision.steps.append(f"X-Intake-State {state!r} is not one of {', '.join(STATES)}: ignored")
    if title := trusted.get("title"):
        decision.title = title
        applied["title"] = title
        decision.steps.append("X-Intake-Title sets the title")
    if applied:
        decision.flags["trusted_headers"] = applied


def _priority(value: str) -> int | None:
    value = value.strip().lower()
    if value.isdigit() and 1 <= int(value) <= 5:
        return int(value)
    return PRIORITY_WORDS.get(value)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in TRUE_WORDS
