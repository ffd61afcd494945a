"""Failed mail: kept raw with its error, listed, reprocessed or deleted; the run goes on."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from intake import ingest
from intake.extensions import db
from intake.models import FailedMessage, Ticket
from tests.conftest import account_args, make_message


def test_a_message_that_fails_is_kept_and_the_run_goes_on(cli, dovecot, mailbox, certs, monkeypatch):
    user, password = mailbox
    dovecot.deliver(user, [make_message("fine 1"), make_message("POISON"), make_message("fine 2")])
    cli(*account_args(dovecot, "imaps", user, name="acct", ca_file=str(certs.ca_cert)),
        env={"MAILBOX_PASSWORD": password})
    real_route = ingest.route

    def broken_route(message, facts, context):
        if message.subject == "POISON":
            raise RuntimeError("routing bug triggered by this message")
        return real_route(message, facts, context)

    monkeypatch.setattr(ingest, "route", broken_route)
    result = cli("fetch", "acct")
    assert "2 stored" in result.output and "1 failed" in result.output
    assert "stored as failed mail: RuntimeError: routing bug" in result.output
    assert sorted(db.session.scalars(select(Ticket.title))) == ["fine 1", "fine 2"]
    assert dovecot.mailbox_count(user) == 0, "the failed message is stored raw, so it may leave the server"

    listed = json.loads(cli("failed", "list", "--json").output)
    assert len(listed) == 1 and "routing bug" in listed[0]["error"]
    raw = db.session.scalars(select(FailedMessage)).one().raw.data
    assert b"Subject: POISON" in raw

    monkeypatch.undo()
    reprocessed = cli("failed", "reprocess", "--all")
    assert "new-ticket" in reprocessed.output
    assert db.session.scalar(select(func.count(Ticket.id))) == 3
    assert json.loads(cli("failed", "list", "--json").output) == []
    again = cli("fetch", "acct")
    assert "0 stored" in again.output


def test_failed_mail_can_be_deleted(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "route", lambda *a: (_ for _ in ()).throw(ValueError("nope")))
    path = tmp_path / "x.eml"
    path.write_bytes(make_message("x"))
    assert "failed" in cli("import", str(path)).output
    failed_id = json.loads(cli("failed", "list", "--json").output)[0]["id"]
    assert cli("failed", "delete", str(failed_id), "--yes").exit_code == 0
    assert json.loads(cli("failed", "list", "--json").output) == []


def test_import_feeds_files_through_the_pipeline(cli, tmp_path):
    cli("queues", "add", "Imported")
    files = []
    for i in range(3):
        path = tmp_path / f"{i}.eml"
        path.write_bytes(make_message(f"old mail {i}"))
        files.append(str(path))
    result = cli("import", *files, "--queue", "Imported")
    assert result.output.count("new-ticket") == 3
    assert {t.queue.name for t in db.session.scalars(select(Ticket))} == {"Imported"}
    missing = cli("import", str(tmp_path / "nope.eml"))
    assert missing.exit_code == 1 and "cannot read" in missing.output


def test_import_into_an_account_twice_is_a_no_op(cli, tmp_path, dovecot):
    cli(*account_args(dovecot, "imap", "someone", name="acct"), env={"MAILBOX_PASSWORD": "x"})
    path = tmp_path / "a.eml"
    path.write_bytes(make_message("once"))
    assert "new-ticket" in cli("import", str(path), "--account", "acct").output
    assert "duplicate" in cli("import", str(path), "--account", "acct").output


def test_parse_prints_the_parsed_message_as_json(cli, tmp_path):
    path = tmp_path / "a.eml"
    path.write_bytes(make_message("Grüße", sender="Jürgen <j@example.org>"))
    data = json.loads(cli("parse", str(path), "--json").output)
    assert data["subject"] == "Grüße" and data["from_name"] == "Jürgen" and data["from_address"] == "j@example.org"
    assert set(data) >= {"to", "cc", "reply_to", "date", "message_id", "in_reply_to", "references", "text", "html",
                         "attachments", "problems"}
