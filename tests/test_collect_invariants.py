"""No mail lost, none taken twice: keep-on-server, crash after commit, racing runs, size limit, validity."""
from __future__ import annotations

import json
import subprocess
import threading

import pytest
from sqlalchemy import func, select

from intake import fetching
from intake.extensions import db
from intake.models import CollectedMessage, CollectionRun, MailAccount, Ticket
from intake.transport import get_transport
from tests.conftest import account_args, make_message


def _tickets() -> int:
    """Count in a fresh transaction and end it (an idle SQLite transaction would block other writers)."""
    db.session.rollback()
    count = db.session.scalar(select(func.count(Ticket.id)))
    db.session.rollback()
    return count


def _add(cli, dovecot, protocol, user, password, certs, *extra, name="acct"):
    result = cli(*account_args(dovecot, protocol, user, name=name, ca_file=str(certs.ca_cert)), *extra,
                 env={"MAILBOX_PASSWORD": password})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("protocol", ["imaps", "pop3s"])
def test_keep_on_server_never_collects_a_message_twice(protocol, cli, dovecot, mailbox, certs):
    user, password = mailbox
    dovecot.deliver(user, [make_message(f"kept {i}") for i in range(5)])
    _add(cli, dovecot, protocol, user, password, certs, "--keep-on-server")

    assert "5 stored" in cli("fetch", "acct").output
    assert dovecot.mailbox_count(user) == 5, "keep on server leaves the mail there"
    dovecot.deliver(user, [make_message("arrived later")])
    second = cli("fetch", "acct")
    assert "1 stored" in second.output and "6 on server" in second.output
    third = cli("fetch", "acct")
    assert "0 stored" in third.output
    assert _tickets() == 6
    assert dovecot.mailbox_count(user) == 6


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing in Intake catches it."""


@pytest.mark.parametrize("protocol", ["imaps", "pop3s"])
def test_crash_between_commit_and_delete_yields_no_duplicate(protocol, cli, dovecot, mailbox, certs, monkeypatch):
    user, password = mailbox
    dovecot.deliver(user, [make_message(f"crash {i}") for i in range(6)])
    _add(cli, dovecot, protocol, user, password, certs)
    transport = get_transport(protocol)

    def die(self, refs):
        raise Crash("killed after the commit, before deleting on the server")

    monkeypatch.setattr(transport, "remove", die)
    with pytest.raises(Crash):
        fetching.collect(db.session.scalar(select(MailAccount.id)), "test")
    db.session.rollback()
    assert _tickets() == 6, "the batch was committed before the crash"
    assert dovecot.mailbox_count(user) == 6, "nothing was deleted on the server"

    monkeypatch.undo()
    report = json.loads(cli("fetch", "acct", "--json").output)[0]
    assert report["stored"] == 0 and report["removed"] == 6, report
    assert _tickets() == 6
    assert dovecot.mailbox_count(user) == 0


@pytest.mark.parametrize("protocol", ["imaps", "pop3s"])
def test_two_concurrent_runs_of_one_account_yield_no_duplicate(protocol, app, cli, dovecot, mailbox, certs):
    user, password = mailbox
    dovecot.deliver(user, [make_message(f"race {i}") for i in range(40)])
    _add(cli, dovecot, protocol, user, password, certs)
    app.config["FETCH_BATCH_SIZE"] = 5
    account_id = db.session.scalar(select(MailAccount.id))
    db.session.commit()
    start = threading.Barrier(2)
    reports = []

    def run():
        with app.app_context():
            start.wait()
            reports.append(fetching.collect(account_id, "race"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r.status for r in reports) in (["locked", "ok"], ["ok", "ok"])
    assert sum(r.stored for r in reports) == 40
    assert _tickets() == 40
    assert dovecot.mailbox_count(user) == 0


def test_two_fetch_processes_racing_yield_no_duplicate(cli, dovecot, mailbox, certs, subprocess_env):
    """The real console twice at once, as two machines would: the lock and dedup keys hold across processes."""
    user, password = mailbox
    dovecot.deliver(user, [make_message(f"process race {i}") for i in range(60)])
    _add(cli, dovecot, "imaps", user, password, certs, "--keep-on-server")
    db.session.commit()
    procs = [subprocess.Popen(["intake", "fetch", "acct", "--json"], env=subprocess_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(out for out, _ in outputs), outputs
    reports = [json.loads(out)[0] for out, _ in outputs]
    assert sum(r["stored"] for r in reports) == 60, outputs
    assert _tickets() == 60
    again = json.loads(cli("fetch", "acct", "--json").output)[0]
    assert again["stored"] == 0
    assert db.session.scalar(select(func.count(CollectedMessage.id))) == 60


@pytest.mark.parametrize("protocol", ["imaps", "pop3s"])
def test_message_over_the_size_limit_stays_on_the_server_as_a_visible_problem(protocol, cli, dovecot, mailbox, certs):
    user, password = mailbox
    dovecot.deliver(user, [make_message("small"), make_message("big", body="x" * 20000)])
    _add(cli, dovecot, protocol, user, password, certs, "--max-size", "8000")
    result = cli("fetch", "acct")
    assert "1 stored" in result.output and "1 too large" in result.output
    assert "over the account's limit of 8000 bytes" in result.output
    assert db.session.scalars(select(Ticket.title)).all() == ["small"]
    assert dovecot.mailbox_count(user) == 1
    run = db.session.scalars(select(CollectionRun)).one()
    assert run.status == "partial" and run.too_large == 1
    assert "stays on the server" in run.problems[0]["problem"]


@pytest.mark.parametrize("validity", ["invalid", "invalid-temporarily"])
def test_only_valid_accounts_are_collected(validity, cli, dovecot, mailbox, certs):
    user, password = mailbox
    dovecot.deliver(user, [make_message("waiting")])
    _add(cli, dovecot, "imaps", user, password, certs, "--validity", validity)
    result = cli("fetch", "acct")
    assert result.exit_code == 1
    assert f"is {validity}; only valid accounts are collected" in result.output
    assert _tickets() == 0 and dovecot.mailbox_count(user) == 1
    all_result = cli("fetch", "--all")
    assert "acct" not in all_result.output
    cli("accounts", "set", "acct", "--validity", "valid")
    assert cli("fetch", "acct").exit_code == 0
    assert _tickets() == 1


def test_max_messages_per_run(cli, dovecot, mailbox, certs):
    user, password = mailbox
    dovecot.deliver(user, [make_message(f"m{i}") for i in range(5)])
    _add(cli, dovecot, "pop3s", user, password, certs, "--max-messages", "3")
    assert "3 stored" in cli("fetch", "acct").output
    assert dovecot.mailbox_count(user) == 2
    assert "2 stored" in cli("fetch", "acct").output
    assert _tickets() == 5
