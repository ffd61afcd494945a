"""`intake parse`, `intake route`, `intake import`: what Intake makes of a message file."""
from __future__ import annotations

import hashlib
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import accounts as service
from ..errors import ValidationError
from ..extensions import db
from ..ingest import Ingestor
from ..parsing import parse_message
from ._util import emit_json


def register(cli: click.Group) -> None:
    for command in (parse, route, import_):
        cli.add_command(command)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}") from None


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="The whole ParsedMessage as JSON.")
def parse(path: str, as_json: bool) -> None:
    """Show what Intake reads from a message file (no database needed)."""
    message = parse_message(_read(path))
    data = message.to_json()
    if as_json:
        return emit_json(data)
    sender = f"{data['from_name']} <{data['from_address']}>" if data["from_address"] else "(no sender)"
    click.echo(f"Subject: {data['subject']}\nFrom: {sender}\nDate: {data['date']}\nMessage-ID: {data['message_id']}")
    for item in data["attachments"]:
        click.echo(f"Attachment: {item['filename']} ({item['content_type']}, {item['size']} bytes)")
    for problem in data["problems"]:
        click.echo(f"Problem: {problem}")
    click.echo("\n" + data["text"])


def _ingestor(account_ref: str | None, queue: str | None) -> Ingestor:
    if account_ref and queue:
        raise click.UsageError("give --account or --queue, not both")
    account = service.find_account(account_ref) if account_ref else None
    if queue and queue not in Ingestor(db.session, current_app.config).queue_ids:
        raise ValidationError(f"there is no queue {queue!r}; create it with `intake queues add {queue}`")
    return Ingestor(db.session, current_app.config, account=account, queue=queue)


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--account", "account_ref", help="Route as if collected by this account (trust, dispatch).")
@click.option("--explain", is_flag=True, help="Every step that led to the decision.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def route(path: str, account_ref: str | None, explain: bool, as_json: bool) -> None:
    """Show where a message would go, without storing anything."""
    _, decision = _ingestor(account_ref, None).route_only(_read(path))
    db.session.rollback()
    if as_json:
        return emit_json({"outcome": decision.outcome.value, "queue": decision.queue,
                          "ticket": decision.ticket.number if decision.ticket else None, "title": decision.title,
                          "fields": decision.fields, "updates": decision.updates, "auto_answer": decision.auto_answer,
                          "steps": decision.steps, "flags": decision.flags})
    text = decision.explain()
    click.echo(text if explain else text.splitlines()[0])


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--account", "account_ref", help="Import as if collected by this account.")
@click.option("--queue", help="Put every message into this queue.")
@with_appcontext
def import_(paths: tuple[str, ...], account_ref: str | None, queue: str | None) -> None:
    """Feed .eml files through the same pipeline as collected mail (importing a file twice into one account is a no-op)."""
    ingestor = _ingestor(account_ref, queue)
    for path in paths:
        raw = _read(path)
        key = f"import:{hashlib.sha256(raw).hexdigest()}" if account_ref else None
        result = ingestor.process(raw, key)
        db.session.commit()
        where = f" {result.ticket_number}" if result.ticket_number else ""
        extra = f" ({result.error})" if result.error else ""
        click.echo(f"{path}: {result.outcome}{where}{extra}")
