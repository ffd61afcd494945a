"""Decision → rows: ticket (or follow-up), article, attachments, raw message.

Everything here runs inside the caller's transaction; nothing commits. Ticket numbers
are date-based and human-friendly (``YYYYMMDD`` + system id + 6-digit daily counter,
e.g. ``2026112310000017``) and unique under concurrency: the daily counter is bumped
with one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on both SQLite and
PostgreSQL.
"""
from __future__ import annotations

import hashlib
from datetime import timezone

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import Article, Attachment, Queue, RawMessage, Ticket, TicketCounter, TicketState, utcnow
from .parsing import Address, ParsedMessage
from .routing import Decision, Outcome

_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def reserve_ticket_numbers(session: Session, system_id: str, count: int = 1) -> list[str]:
    """``count`` consecutive numbers of today, in one atomic statement."""
    day = utcnow().strftime("%Y%m%d")
    insert = _INSERT[session.get_bind().dialect.name]
    statement = (
        insert(TicketCounter)
        .values(day=day, last=count)
        .on_conflict_do_update(index_elements=["day"], set_={"last": TicketCounter.last + count})
        .returning(TicketCounter.last)
    )
    last = session.execute(statement).scalar_one()
    return [f"{day}{system_id}{sequence:06d}" for sequence in range(last - count + 1, last + 1)]


def next_ticket_number(session: Session, system_id: str) -> str:
    return reserve_ticket_numbers(session, system_id, 1)[0]


def assign_ticket_numbers(session: Session, system_id: str) -> None:
    """Number every new ticket in the session that has none yet (one reservation for a whole batch)."""
    unnumbered = [obj for obj in session.new if isinstance(obj, Ticket) and not obj.number]
    if unnumbered:
        for ticket, number in zip(unnumbered, reserve_ticket_numbers(session, system_id, len(unnumbered))):
            ticket.number = number


def store_raw(session: Session, raw: bytes) -> RawMessage:
    row = RawMessage(sha256=hashlib.sha256(raw).hexdigest(), size=len(raw), data=raw)
    session.add(row)
    return row


def store(
    session: Session,
    decision: Decision,
    message: ParsedMessage,
    raw: RawMessage,
    *,
    account_id: int | None,
    queue_ids: dict[str, int],
    owner_ids: dict[str, int] | None = None,
) -> Article:
    """Create the ticket (or update the follow-up's ticket) and add the article. No flush, no commit.

    New tickets get their number from :func:`assign_ticket_numbers` before the flush.
    ``owner_ids`` maps lower-case user e-mail addresses to user ids (for owner fields).
    """
    now = utcnow()
    problems: dict = {}
    if decision.outcome is Outcome.FOLLOW_UP and decision.ticket is not None:
        ticket = decision.ticket.handle or session.get(Ticket, decision.ticket.id)
        _apply(ticket, decision.updates, session, queue_ids, owner_ids or {}, problems)
        ticket.updated_at = now
    elif decision.outcome is Outcome.NEW_TICKET:
        ticket = Ticket(
            queue=session.get(Queue, queue_ids[decision.queue]),
            title=decision.title[:1000],
            state=TicketState.NEW.value,
            priority=3,
            customer=message.from_.email if message.from_ else "",
            tags=[],
            created_at=now,
            updated_at=now,
        )
        _apply(ticket, decision.fields, session, queue_ids, owner_ids or {}, problems)
        session.add(ticket)
    else:
        raise ValueError(f"cannot store a message with outcome {decision.outcome}")

    article = Article(
        ticket=ticket,
        kind="email-in",
        account_id=account_id,
        subject=message.subject,
        from_address=message.from_.email if message.from_ else "",
        from_name=message.from_.name if message.from_ else "",
        to=_addresses(message.to),
        cc=_addresses(message.cc),
        reply_to=_addresses(message.reply_to),
        date=message.date.astimezone(timezone.utc).replace(tzinfo=None) if message.date else None,
        message_id=(message.message_id or None) and message.message_id[:998],
        in_reply_to=" ".join(message.in_reply_to),
        references=" ".join(message.references),
        body_text=message.text,
        body_html=message.html,
        flags={**_flags(decision, message), **problems},
        raw=raw,
        created_at=now,
    )
    for part in message.attachments:
        article.attachments.append(
            Attachment(
                filename=part.filename[:1000],
                content_type=part.content_type[:255],
                size=part.size,
                sha256=part.sha256,
                content_id=part.content_id,
                inline=part.inline,
                data=part.data,
            )
        )
    session.add(article)
    return article


def _apply(ticket: Ticket, fields: dict, session: Session, queue_ids: dict[str, int],
           owner_ids: dict[str, int], problems: dict) -> None:
    """Set validated ticket fields (see intake.ticket_fields) on a ticket."""
    for name, value in fields.items():
        if name == "queue":
            ticket.queue = session.get(Queue, queue_ids[value])
        elif name in ("state", "priority", "customer"):
            setattr(ticket, name, value)
        elif name == "tags":
            ticket.tags = list(dict.fromkeys([*(ticket.tags or []), *value]))
        elif name == "owner":
            owner_id = owner_ids.get(str(value).lower())
            if owner_id is None:
                problems["unknown_owner"] = value
            else:
                ticket.owner_id = owner_id


def owner_ids(session: Session) -> dict[str, int]:
    from .models import User

    return {email.lower(): id_ for id_, email in session.query(User.id, User.email)}


def queue_ids(session: Session) -> dict[str, int]:
    return {name: id_ for id_, name in session.query(Queue.id, Queue.name)}


def _addresses(addresses: list[Address]) -> str:
    return ", ".join(f"{a.name} <{a.email}>" if a.name else a.email for a in addresses)


def _flags(decision: Decision, message: ParsedMessage) -> dict:
    flags = dict(decision.flags)
    flags["routing"] = decision.steps
    if message.problems:
        flags["parse_problems"] = message.problems
    if message.limit_exceeded:
        flags["limit_exceeded"] = True
    return flags

