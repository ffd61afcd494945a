"""Administrators: filter rules (intake/models/rules.py, intake.rules) and the routing preview.

Rules are validated by intake.rules.compile_rule, the same function the console uses;
the preview runs a pasted (or stored) message through the real pipeline without storing it
(Ingestor.route_only) and shows every step of the decision.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ..errors import ValidationError
from ..extensions import db
from ..ingest import Ingestor
from ..models import Article, FilterRule, MailAccount, Queue, User
from ..rules import FIELDS, compile_rule
from . import audit
from .security import admin_required
from .ui import STATES

bp = Blueprint("rules", __name__, url_prefix="/admin/rules")

CONDITION_ROWS = 4
MAX_PREVIEW_BYTES = 2 * 1024 * 1024


def _rule(rule_id: int) -> FilterRule:
    rule = db.session.get(FilterRule, rule_id)
    if rule is None:
        abort(404)
    return rule


def _ordered() -> list[FilterRule]:
    return list(db.session.scalars(select(FilterRule).order_by(FilterRule.position, FilterRule.id)))


@bp.get("/")
@admin_required
def index():
    return render_template("admin/rules.html", rules=_ordered())


def read_form(form) -> dict:
    conditions = []
    for i in range(int(form.get("rows", CONDITION_ROWS))):
        field, pattern = form.get(f"field_{i}", "").strip(), form.get(f"pattern_{i}", "")
        if field or pattern:
            conditions.append({"field": field, "pattern": pattern, "negate": form.get(f"negate_{i}") == "on"})
    actions = {key: form.get(key, "").strip() for key in ("queue", "priority", "state", "title", "owner", "customer")}
    actions = {key: value for key, value in actions.items() if value}
    tags = [t.strip() for t in form.get("tags", "").split(",") if t.strip()]
    if tags:
        actions["tags"] = tags
    if form.get("ignore") == "on":
        actions["ignore"] = True
    return {"name": form.get("name", "").strip(), "enabled": form.get("enabled") == "on",
            "match_all": form.get("match") != "any", "conditions": conditions, "actions": actions,
            "stop": form.get("stop") == "on", "comment": form.get("comment", "")}


def _form(rule: FilterRule | None, values: dict, error: str | None = None, status: int = 200):
    queues = list(db.session.scalars(select(Queue.name).order_by(Queue.name)))
    owners = list(db.session.scalars(select(User.email).where(User.active.is_(True)).order_by(User.email)))
    rows = max(CONDITION_ROWS, len(values.get("conditions", [])) + 1)
    return render_template("admin/rule_form.html", rule=rule, values=values, error=error, queues=queues,
                           owners=owners, states=STATES, fields=FIELDS, rows=rows), status


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:rule_id>", methods=["GET", "POST"])
@admin_required
def edit(rule_id: int | None = None):
    rule = _rule(rule_id) if rule_id else None
    if request.method == "GET":
        values = ({"name": rule.name, "enabled": rule.enabled, "match_all": rule.match_all, "conditions": rule.conditions,
                   "actions": rule.actions, "stop": rule.stop, "comment": rule.comment} if rule
                  else {"enabled": True, "match_all": True, "conditions": [], "actions": {}})
        return _form(rule, values)
    values = read_form(request.form)
    try:
        if not values["name"]:
            raise ValidationError("a rule needs a name")
        clash = db.session.scalar(select(FilterRule).where(FilterRule.name == values["name"]))
        if clash is not None and clash is not rule:
            raise ValidationError(f"a rule named {values['name']!r} exists already")
        compile_rule(values["name"], values["conditions"], values["actions"], values["match_all"], values["stop"])
        queue = values["actions"].get("queue")
        if queue and not db.session.scalar(select(Queue.id).where(Queue.name == queue)):
            raise ValidationError(f"there is no queue {queue!r}")
    except ValidationError as exc:
        return _form(rule, values, str(exc), 422)
    before = _state(rule) if rule else {}
    if rule is None:
        rule = FilterRule(position=(db.session.scalar(select(func.max(FilterRule.position))) or 0) + 10)
        db.session.add(rule)
    for key, value in values.items():
        setattr(rule, key, value)
    db.session.flush()
    audit.record("rule.update" if before else "rule.create", "rule", rule.id, rule.name, audit.diff(before, _state(rule)))
    db.session.commit()
    flash(f"Rule {rule.name} saved.", "success")
    return redirect(url_for(".index"))


def _state(rule: FilterRule) -> dict:
    return {"name": rule.name, "enabled": rule.enabled, "match": "all" if rule.match_all else "any",
            "conditions": "; ".join(f"{c['field']}{'!~' if c.get('negate') else '~'}{c['pattern']}" for c in rule.conditions),
            "actions": ", ".join(f"{k}={v}" for k, v in sorted(rule.actions.items())), "stop": rule.stop}


@bp.post("/<int:rule_id>/move")
@admin_required
def move(rule_id: int):
    rules = _ordered()
    rule = _rule(rule_id)
    index = rules.index(rule)
    other = index - 1 if request.form.get("direction") == "up" else index + 1
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
        for position, item in enumerate(rules, start=1):
            item.position = position * 10
        audit.record("rule.move", "rule", rule.id, rule.name, {"position": [index + 1, other + 1]})
        db.session.commit()
    return redirect(url_for(".index"))


@bp.post("/<int:rule_id>/delete")
@admin_required
def delete(rule_id: int):
    rule = _rule(rule_id)
    audit.record("rule.delete", "rule", rule.id, rule.name, audit.diff(_state(rule), {}))
    db.session.delete(rule)
    db.session.commit()
    flash(f"Rule {rule.name} deleted.", "success")
    return redirect(url_for(".index"))


@bp.route("/preview", methods=["GET", "POST"])
@admin_required
def preview():
    """Where would this message go? The real pipeline, nothing stored."""
    accounts = list(db.session.scalars(select(MailAccount).order_by(MailAccount.name)))
    decision = message = error = None
    raw_text = request.form.get("raw", "")
    article_id = request.values.get("article", type=int)
    if article_id and not raw_text:
        article = db.session.get(Article, article_id)
        if article is None or article.raw is None:
            abort(404)
        raw_text = article.raw.data.decode("utf-8", "replace")
    if raw_text:
        raw = raw_text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")[:MAX_PREVIEW_BYTES]
        account = db.session.get(MailAccount, request.values.get("account", type=int) or 0)
        try:
            message, decision = Ingestor(db.session, current_app.config, account=account).route_only(raw)
        except Exception as exc:  # noqa: BLE001 - the preview says what failed, as collection would
            error = f"{type(exc).__name__}: {exc}"
        db.session.rollback()
    return render_template("admin/rule_preview.html", accounts=accounts, decision=decision, message=message,
                           raw=raw_text, error=error, account_id=request.values.get("account", type=int))
