"""Is a message a follow-up of an existing ticket? Pure, with lookups handed in.

In order: Intake's own Message-IDs in In-Reply-To/References (they carry the ticket
number, so replies thread even when the subject was changed), other stored
Message-IDs there, the ticket number in the subject (optionally only from a sender
already on the ticket — the hijack guard), and, when enabled, the number in the body.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Callable

from .parsing import ParsedMessage

OWN_MESSAGE_ID = re.compile(r"^intake\.(\d{10,20})\.[0-9a-z]+@", re.I)
CLOSED_ACTIONS = ("reopen", "new-ticket", "append")


def outgoing_message_id(ticket_number: str, domain: str) -> str:
    """The Message-ID (without <>) of a message Intake sends about a ticket; recognized in replies."""
    return f"intake.{ticket_number}.{secrets.token_hex(8)}@{domain}"


def ticket_numbers_in(text: str, hook: str) -> list[str]:
    """Ticket numbers tagged in a subject or body: ``[Ticket#2026112310000017]`` or ``Ticket#2026…``."""
    return re.findall(re.escape(hook) + r"\s*:?\s*(\d{10,20})", text or "", flags=re.IGNORECASE)


@dataclass
class FollowUpPolicy:
    search_body: bool = False  # also look for a ticket number in the body
    subject_needs_known_sender: bool = False  # hijack guard for subject-only matches
    closed_action: str = "reopen"  # reopen | new-ticket | append


@dataclass
class Match:
    ticket: object  # TicketRef
    how: str


def find(message: ParsedMessage, hook: str, policy: FollowUpPolicy, *,
         by_number: Callable, by_message_ids: Callable, senders_of: Callable) -> tuple[Match | None, list[str]]:
    """The ticket this message follows up, and the steps that explain the search."""
    steps: list[str] = []
    referenced = [*message.in_reply_to, *reversed(message.references)]
    for message_id in referenced:
        own = OWN_MESSAGE_ID.match(message_id)
        if own and (ticket := by_number(own.group(1))):
            return Match(ticket, f"references our message {message_id} of ticket {ticket.number}"), steps
    if referenced and (ticket := by_message_ids(referenced)):
        return Match(ticket, f"In-Reply-To/References name a message of ticket {ticket.number}"), steps

    sender = (message.from_.email if message.from_ else "").lower()
    candidates = [("subject", n) for n in ticket_numbers_in(message.subject, hook)]
    if policy.search_body:
        candidates += [("body", n) for n in ticket_numbers_in(message.text[:100_000], hook)]
    for where, number in candidates:
        ticket = by_number(number)
        if ticket is None:
            steps.append(f"the {where} names ticket {number}, which does not exist")
            continue
        if policy.subject_needs_known_sender and sender not in senders_of(ticket):
            steps.append(f"the {where} names ticket {number}, but {sender or 'the sender'} is not on that ticket "
                         "(hijack guard): not a follow-up")
            continue
        return Match(ticket, f"the {where} names ticket {number}"), steps
    return None, steps
