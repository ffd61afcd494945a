"""Real RQ workers on a real Redis, the scheduler tick, back-off, and embedded mode."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request

import pytest
from sqlalchemy import func, select

from intake import scheduling
from intake.extensions import db
from intake.models import MailAccount, Ticket
from tests.conftest import account_args, make_message
from tests.peers.ports import free_port


def _tickets() -> int:
    """Count in a fresh transaction and end it (an idle SQLite transaction would block other writers)."""
    db.session.rollback()
    count = db.session.scalar(select(func.count(Ticket.id)))
    db.session.rollback()
    return count


@pytest.fixture
def rq_config(app_config, redis_server):
    app_config["REDIS_URL"] = redis_server.url
    redis_server.flushall()
    return app_config


def test_rq_worker_collects_an_account_enqueued_by_the_scheduler(rq_config, app, cli, dovecot, mailbox, certs,
                                                                  subprocess_env):
    user, password = mailbox
    dovecot.deliver(user, [make_message(f"via rq {i}") for i in range(4)])
    cli(*account_args(dovecot, "imaps", user, name="acct", ca_file=str(certs.ca_cert)), "--worker-queue", "site-a",
        env={"MAILBOX_PASSWORD": password})

    assert scheduling.tick() == [1]
    assert scheduling.tick() == [], "a queued account is not enqueued twice"
    assert _tickets() == 0, "nothing runs until a worker takes the job"
    db.session.commit()

    worker = subprocess.run(["intake", "worker", "site-a", "--burst"], env=subprocess_env,
                            capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr
    assert _tickets() == 4, worker.stderr[-3000:]
    account = db.session.get(MailAccount, 1)
    assert account.pending_since is None and account.last_success_at is not None
    assert account.next_run_at > account.last_run_at, "next run is one interval later"
    assert scheduling.tick() == [], "not due again before its interval"


def test_scheduler_command_enqueues_due_accounts_for_the_workers(rq_config, app, cli, dovecot, mailbox, certs,
                                                                 subprocess_env):
    user, password = mailbox
    dovecot.deliver(user, [make_message("scheduled")])
    cli(*account_args(dovecot, "pop3s", user, name="acct", ca_file=str(certs.ca_cert)),
        env={"MAILBOX_PASSWORD": password})
    cli(*account_args(dovecot, "pop3s", user, name="off", ca_file=str(certs.ca_cert)), "--disabled",
        env={"MAILBOX_PASSWORD": password})
    db.session.commit()
    tick = subprocess.run(["intake", "scheduler", "--once"], env=subprocess_env, capture_output=True, text=True,
                          timeout=60)
    assert tick.returncode == 0, tick.stderr
    assert tick.stdout.strip() == "enqueued accounts 1", "disabled accounts are not scheduled"
    worker = subprocess.run(["intake", "worker", "--burst"], env=subprocess_env, capture_output=True, text=True,
                            timeout=120)
    assert worker.returncode == 0, worker.stderr
    assert _tickets() == 1


def test_worker_and_scheduler_need_redis(cli):
    for command in (("worker", "--burst"), ("scheduler", "--once")):
        result = cli(*command)
        assert result.exit_code == 1 and "needs INTAKE_REDIS_URL" in result.output


def test_a_failing_account_backs_off_and_never_delays_the_others(app, cli, dovecot, mailbox, certs):
    user, password = mailbox
    dovecot.deliver(user, [make_message("good mail")])
    cli(*account_args(dovecot, "imaps", user, name="bad", ca_file=str(certs.ca_cert)),
        env={"MAILBOX_PASSWORD": "wrong password"})
    cli(*account_args(dovecot, "imaps", user, name="good", ca_file=str(certs.ca_cert)),
        env={"MAILBOX_PASSWORD": password})
    from intake import fetching

    bad, good = db.session.scalars(select(MailAccount).order_by(MailAccount.id)).all()
    first = fetching.collect(bad.id, "schedule")
    assert first.status == "error" and "refused the login" in first.error
    fetching.collect(good.id, "schedule")
    db.session.rollback()
    bad, good = db.session.scalars(select(MailAccount).order_by(MailAccount.id)).all()
    assert bad.consecutive_failures == 1 and "refused the login" in bad.last_error
    delay_1 = (bad.next_run_at - bad.last_run_at).total_seconds()
    fetching.collect(bad.id, "schedule")
    db.session.rollback()
    bad = db.session.get(MailAccount, bad.id)
    delay_2 = (bad.next_run_at - bad.last_run_at).total_seconds()
    assert delay_2 == pytest.approx(2 * delay_1, rel=0.01), "back-off doubles"
    assert _tickets() == 1 and good.consecutive_failures == 0


def test_embedded_mode_collects_on_schedule_without_redis(cli, dovecot, mailbox, certs, subprocess_env):
    """`intake run` with no INTAKE_REDIS_URL: web app, scheduler and jobs in one process."""
    user, password = mailbox
    dovecot.deliver(user, [make_message(f"embedded {i}") for i in range(3)])
    cli(*account_args(dovecot, "pop3s", user, name="acct", ca_file=str(certs.ca_cert)),
        env={"MAILBOX_PASSWORD": password})
    db.session.commit()
    port = free_port()
    env = dict(subprocess_env, INTAKE_SCHEDULER_TICK_SECONDS="0.5")
    server = subprocess.Popen(["intake", "run", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _tickets() < 3:
            time.sleep(0.3)
        assert _tickets() == 3
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
    assert dovecot.mailbox_count(user) == 0
