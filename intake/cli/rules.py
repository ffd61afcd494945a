"""`intake rules add | list | delete` and `intake failed list | show | reprocess | delete`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from ..errors import NotFound, ValidationError
from ..extensions import db
from ..ingest import Ingestor
from ..models import FailedMessage, FilterRule, MailAccount
from ..rules import compile_rule, parse_condition
from ._util import emit_json, table


def register(cli: click.Group) -> None:
    cli.add_command(rules)
    cli.add_command(failed)


@click.group(cls=AppGroup)
def rules() -> None:
    """Filter rules, applied in order to mail from every account."""


@rules.command("add")
@click.argument("name")
@click.option("--match", "conditions", multiple=True, required=True, metavar="FIELD~RE2",
              help="subject|from|to|cc|body|header:NAME, then ~PATTERN (or !~ for does-not-match). Repeatable.")
@click.option("--any", "match_any", is_flag=True, help="Any condition suffices (default: all).")
@click.option("--set-queue")
@click.option("--set-priority")
@click.option("--set-state")
@click.option("--set-title")
@click.option("--set-owner", help="A user's e-mail address.")
@click.option("--set-customer")
@click.option("--add-tag", "tags", multiple=True)
@click.option("--ignore", is_flag=True, help="Collect the message but make no ticket.")
@click.option("--stop", is_flag=True, help="No further rules after this one.")
@click.option("--position", type=int, help="Order (default: after the last rule).")
@click.option("--comment", default="")
def rules_add(name, conditions, match_any, set_queue, set_priority, set_state, set_title, set_owner, set_customer,
              tags, ignore, stop, position, comment) -> None:
    actions = {key: value for key, value in (("queue", set_queue), ("priority", set_priority), ("state", set_state),
                                             ("title", set_title), ("owner", set_owner),
                                             ("customer", set_customer)) if value}
    if tags:
        actions["tags"] = list(tags)
    if ignore:
        actions["ignore"] = True
    parsed = [parse_condition(c) for c in conditions]
    compile_rule(name, parsed, actions, not match_any, stop)
    if set_queue and set_queue not in Ingestor(db.session, current_app.config).queue_ids:
        raise ValidationError(f"there is no queue {set_queue!r}; create it with `intake queues add {set_queue}`")
    if db.session.scalar(select(FilterRule).where(FilterRule.name == name)):
        raise ValidationError(f"a rule named {name!r} exists already")
    if position is None:
        position = (db.session.scalar(select(func.max(FilterRule.position))) or 0) + 10
    db.session.add(FilterRule(name=name, position=position, match_all=not match_any, conditions=parsed,
                              actions=actions, stop=stop, comment=comment))
    db.session.commit()
    click.echo(f"rule {name} added at position {position}")


@rules.command("list")
@click.option("--json", "as_json", is_flag=True)
def rules_list(as_json: bool) -> None:
    rows = [{"id": r.id, "name": r.name, "position": r.position, "enabled": r.enabled,
             "match": "all" if r.match_all else "any", "conditions": r.conditions, "actions": r.actions,
             "stop": r.stop} for r in db.session.scalars(select(FilterRule).order_by(FilterRule.position))]
    if as_json:
        return emit_json(rows)
    table([[r["position"], r["name"], r["match"],
            "; ".join(f"{c['field']}{'!~' if c['negate'] else '~'}{c['pattern']}" for c in r["conditions"]),
            ", ".join(f"{k}={v}" for k, v in r["actions"].items()) + (" stop" if r["stop"] else "")]
           for r in rows], ["POS", "NAME", "MATCH", "CONDITIONS", "ACTIONS"])


@rules.command("delete")
@click.argument("ref")
def rules_delete(ref: str) -> None:
    rule = db.session.scalar(select(FilterRule).where(
        (FilterRule.name == ref) | (FilterRule.id == (int(ref) if ref.isdigit() else -1))))
    if rule is None:
        raise NotFound(f"no rule {ref!r} (see `intake rules list`)")
    db.session.delete(rule)
    db.session.commit()
    click.echo(f"rule {rule.name} deleted")


@click.group(cls=AppGroup)
def failed() -> None:
    """Mail whose processing failed: kept raw with its error."""


def _pending_failed():
    return select(FailedMessage).where(FailedMessage.reprocessed_at.is_(None)).order_by(FailedMessage.id)


@failed.command("list")
@click.option("--json", "as_json", is_flag=True)
def failed_list(as_json: bool) -> None:
    rows = [{"id": f.id, "account_id": f.account_id, "created_at": f.created_at, "size": f.raw.size,
             "error": f.error} for f in db.session.scalars(_pending_failed())]
    if as_json:
        return emit_json(rows)
    table([[r["id"], r["account_id"] or "-", r["created_at"], r["size"], r["error"][:80]] for r in rows],
          ["ID", "ACCOUNT", "SINCE", "BYTES", "ERROR"])


def _select(ids: tuple[int, ...], all_: bool) -> list[FailedMessage]:
    if bool(ids) == all_:
        raise click.UsageError("name failed mail ids, or give --all")
    if all_:
        return list(db.session.scalars(_pending_failed()))
    found = [db.session.get(FailedMessage, i) for i in ids]
    missing = [str(i) for i, f in zip(ids, found) if f is None]
    if missing:
        raise NotFound(f"no failed mail {', '.join(missing)} (see `intake failed list`)")
    return found


@failed.command("reprocess")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True)
def failed_reprocess(ids: tuple[int, ...], all_: bool) -> None:
    """Run failed mail through the pipeline again (e.g. after a fix or a new rule)."""
    ingestors: dict[int | None, Ingestor] = {}
    for item in _select(ids, all_):
        if item.account_id not in ingestors:
            account = db.session.get(MailAccount, item.account_id) if item.account_id else None
            ingestors[item.account_id] = Ingestor(db.session, current_app.config, account=account)
        result = ingestors[item.account_id].reprocess(item)
        db.session.commit()
        click.echo(f"failed mail {item.id}: {result.outcome}"
                   + (f" {result.ticket_number}" if result.ticket_number else f" ({result.error})"))


@failed.command("delete")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True)
@click.option("--yes", is_flag=True)
def failed_delete(ids: tuple[int, ...], all_: bool, yes: bool) -> None:
    items = _select(ids, all_)
    if not yes:
        click.confirm(f"Delete {len(items)} failed messages for good?", abort=True)
    for item in items:
        raw = item.raw
        db.session.delete(item)
        db.session.delete(raw)
    db.session.commit()
    click.echo(f"{len(items)} failed messages deleted")
