"""The console: settings round-trip, secrets stay secret, errors are one clear line."""
from __future__ import annotations

import json
import subprocess

from sqlalchemy import text

from intake.extensions import db
from tests.conftest import account_args, make_message


def test_account_settings_round_trip_and_defaults(cli, dovecot):
    cli("queues", "add", "Hotline")
    added = cli(*account_args(dovecot, "imaps", "someone", name="main"), "--dispatch", "queue", "--queue", "Hotline",
                "--interval", "120", "--worker-queue", "site-b", "--trusted", "--folder", "Support/Inbox",
                env={"MAILBOX_PASSWORD": "s3cret-password"})
    assert added.exit_code == 0, added.output
    shown = json.loads(cli("accounts", "show", "main", "--json").output)
    assert shown["queue"] == "Hotline" and shown["dispatch"] == "queue" and shown["trusted"] is True
    assert shown["interval_seconds"] == 120 and shown["worker_queue"] == "site-b"
    assert shown["folder"] == "Support/Inbox" and shown["verify_tls"] is True
    cli("accounts", "set", "main", "--port", "")
    shown = json.loads(cli("accounts", "show", "main", "--json").output)
    assert shown["port"] is None and shown["effective_port"] == 993
    assert json.loads(cli("accounts", "list", "--json").output)[0]["name"] == "main"


def test_secrets_are_encrypted_at_rest_and_never_echoed(cli, dovecot, mailbox, certs):
    user, password = mailbox
    cli(*account_args(dovecot, "imap", user, name="main"), env={"MAILBOX_PASSWORD": password})
    stored = db.session.execute(text("SELECT password FROM mail_accounts")).scalar_one()
    assert password not in stored and stored.startswith("gAAAA"), "Fernet token, not the password"
    for args in (("accounts", "show", "main", "--json"), ("accounts", "list", "--json"), ("accounts", "show", "main")):
        output = cli(*args).output
        assert password not in output
    shown = json.loads(cli("accounts", "show", "main", "--json").output)
    assert shown["password_set"] is True and "password" not in shown
    checked = cli("check", "main")
    assert checked.exit_code == 0, checked.output
    assert password not in checked.output
    assert "LOGIN" in checked.output and "<redacted>" in checked.output


def test_check_shows_a_transcript_and_the_count(cli, dovecot, mailbox):
    user, password = mailbox
    dovecot.deliver(user, [make_message("one"), make_message("two")])
    cli(*account_args(dovecot, "pop3", user, name="main"), env={"MAILBOX_PASSWORD": password})
    result = cli("check", "main")
    assert result.exit_code == 0
    assert "C: PASS <redacted>" in result.output
    assert "OK: 2 messages" in result.output
    assert dovecot.mailbox_count(user) == 2, "check collects nothing"


def test_wrong_settings_are_refused_with_what_to_fix(cli):
    cases = [
        (["--port", "70000"], "port 70000 is out of range"),
        (["--interval", "5"], "polling interval must be at least 30 seconds"),
        (["--ca-file", "/nonexistent.pem"], "the CA file /nonexistent.pem does not exist"),
        (["--queue", "Ghost", "--dispatch", "queue"], "there is no queue 'Ghost'"),
    ]
    for extra, message in cases:
        result = cli("accounts", "add", "--name", "x", "--protocol", "imap", "--host", "h", "--username", "u",
                     "--password-env", "PW", *extra, env={"PW": "pw"})
        assert result.exit_code == 1, extra
        assert message in result.output, result.output


def test_real_console_errors_are_one_line_without_traceback(subprocess_env, app):
    result = subprocess.run(["intake", "accounts", "show", "nope"], env=subprocess_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: no mail account 'nope' (see `intake accounts list`)"
    assert "Traceback" not in result.stderr


def test_init_creates_schema_default_queue_and_admin(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update(INTAKE_INSTANCE_PATH=str(tmp_path), ADMIN_PW="admin-password-1")
    first = subprocess.run(["intake", "init", "--admin-email", "admin@example.com", "--admin-password-env", "ADMIN_PW"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "intake.sqlite3").exists() and (tmp_path / "encryption_key").exists()
    assert oct((tmp_path / "encryption_key").stat().st_mode & 0o777) == "0o600"
    queues = subprocess.run(["intake", "queues", "list", "--json"], env=env, capture_output=True, text=True)
    assert [q["name"] for q in json.loads(queues.stdout)] == ["Raw"]
    users = subprocess.run(["intake", "users", "list", "--json"], env=env, capture_output=True, text=True)
    assert json.loads(users.stdout)[0]["email"] == "admin@example.com"
    again = subprocess.run(["intake", "init"], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, "init is idempotent"
