"""`intake tickets list | show`."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..errors import NotFound
from ..extensions import db
from ..models import Ticket
from ._util import emit_json, table


def register(cli: click.Group) -> None:
    cli.add_command(tickets)


@click.group(cls=AppGroup)
def tickets() -> None:
    """Look at tickets."""


def ticket_summary(ticket: Ticket) -> dict:
    return {"number": ticket.number, "title": ticket.title, "queue": ticket.queue.name, "state": ticket.state,
            "priority": ticket.priority, "customer": ticket.customer, "tags": ticket.tags,
            "created_at": ticket.created_at, "updated_at": ticket.updated_at}


@tickets.command("list")
@click.option("--queue", help="Only this queue.")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def list_(queue: str | None, limit: int, as_json: bool) -> None:
    query = select(Ticket).order_by(Ticket.id.desc()).limit(limit)
    if queue:
        from ..models import Queue

        query = query.join(Queue).where(Queue.name == queue)
    rows = [ticket_summary(t) for t in db.session.scalars(query)]
    if as_json:
        return emit_json(rows)
    table([[r["number"], r["queue"], r["state"], r["priority"], r["title"][:60]] for r in rows],
          ["NUMBER", "QUEUE", "STATE", "PRIO", "TITLE"])


@tickets.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
def show(number: str, as_json: bool) -> None:
    ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        raise NotFound(f"no ticket {number}")
    data = ticket_summary(ticket)
    data["articles"] = [{
        "id": a.id, "kind": a.kind, "subject": a.subject, "from_address": a.from_address, "from_name": a.from_name,
        "to": a.to, "cc": a.cc, "date": a.date, "message_id": a.message_id, "in_reply_to": a.in_reply_to,
        "references": a.references, "text": a.body_text, "flags": a.flags,
        "attachments": [{"filename": x.filename, "content_type": x.content_type, "size": x.size,
                         "sha256": x.sha256, "inline": x.inline, "content_id": x.content_id} for x in a.attachments],
    } for a in ticket.articles]
    if as_json:
        return emit_json(data)
    click.echo(f"[{data['number']}] {data['title']}\nqueue {data['queue']} · state {data['state']} · priority {data['priority']}")
    for article in data["articles"]:
        click.echo(f"\n--- article {article['id']} from {article['from_name']} <{article['from_address']}> {article['date'] or ''}")
        click.echo(f"Subject: {article['subject']}\n\n{article['text']}")
