"""Filter rules in the web UI: validated like the console (RE2), ordered, previewed with the real pipeline."""
from __future__ import annotations

from sqlalchemy import select

from intake.extensions import db
from intake.models import AuditEntry, FilterRule
from tests.conftest import make_message
from tests.fixtures_web import *  # noqa: F403


def rule_form(name: str, pattern: str, **extra) -> dict:
    form = {"name": name, "enabled": "on", "match": "all", "rows": "4", "field_0": "subject", "pattern_0": pattern}
    form.update(extra)
    return form


def test_rules_are_validated_saved_ordered_and_audited(web, people):
    client = web(people.admin)
    bad = client.post("/admin/rules/new", data=rule_form("backref", r"(a)\1", queue="Sales"))
    assert bad.status_code == 422 and "not a valid RE2 expression" in bad.get_data(as_text=True)
    idle = client.post("/admin/rules/new", data=rule_form("idle", "x"))
    assert idle.status_code == 422 and "does nothing" in idle.get_data(as_text=True)
    assert client.post("/admin/rules/new", data=rule_form("invoices", "(?i)invoice", queue="Sales",
                                                          priority="4")).status_code == 302
    assert client.post("/admin/rules/new", data=rule_form("spam", "(?i)viagra", ignore="on", stop="on")).status_code == 302
    rules = db.session.scalars(select(FilterRule).order_by(FilterRule.position)).all()
    assert [r.name for r in rules] == ["invoices", "spam"]
    assert rules[0].conditions == [{"field": "subject", "pattern": "(?i)invoice", "negate": False}]
    assert rules[0].actions == {"queue": "Sales", "priority": "4"}
    client.post(f"/admin/rules/{rules[1].id}/move", data={"direction": "up"})
    db.session.expire_all()
    assert [r.name for r in db.session.scalars(select(FilterRule).order_by(FilterRule.position))] == ["spam", "invoices"]
    page = client.get("/admin/rules/").get_data(as_text=True)
    assert page.index("spam") < page.index("invoices")
    client.post(f"/admin/rules/{rules[1].id}/delete")
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["rule.create", "rule.create", "rule.move", "rule.delete"]


def test_routing_preview_shows_the_decision_and_the_rule_that_fired(web, people):
    client = web(people.admin)
    client.post("/admin/rules/new", data=rule_form("invoices", "(?i)invoice", queue="Sales"))
    raw = make_message("Invoice 2026-117 overdue").decode()
    page = client.post("/admin/rules/preview", data={"raw": raw}).get_data(as_text=True)
    assert "new ticket in queue Sales" in page and "invoices" in page
    other = client.post("/admin/rules/preview", data={"raw": make_message("Hello").decode()}).get_data(as_text=True)
    assert "new ticket in queue Raw" in other
    assert db.session.query(FilterRule).count() == 1  # nothing else was stored
    assert web(people.agent).get("/admin/rules/preview").status_code == 403
