"""Ticket list and search latency with a million tickets, on SQLite and PostgreSQL.

Bulk-loads N tickets with one article each (executemany on SQLite, COPY on PostgreSQL;
the search index is dropped for the load and rebuilt with the migration's own
statements), then times, in one process and one run:

  baseline   a bare indexed SELECT of one ticket by primary key,
  list/…     intake.web.tickets.ticket_page (the query and the ORM objects of a 50-row page)
             with the filters and sort orders the UI offers, first and deep (keyset) pages,
  search/…   the same with full-text search: a rare, a medium and a common word, two words,
             search within a queue, search sorted by newest,
  http/…     a whole GET /tickets through the Flask test client (query + template),

and prints p50/p95 in milliseconds and as a ratio to the baseline's p50. Usage:

    python bench/ticket_list.py [--db sqlite|postgresql|both] [--tickets 1000000] [--repeat 40]
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

QUEUES = 10
USERS = 20  # 30% of the tickets have one of them as owner
PAGE = 50
SEED = 20261123
STATES = ["closed"] * 80 + ["new"] * 10 + ["open"] * 7 + ["pending"] * 3
PRIORITIES = [1] * 5 + [2] * 15 + [3] * 60 + [4] * 15 + [5] * 5
FIRST = ["anna", "bernd", "chen", "dario", "elif", "farah", "goran", "hana", "ivan", "julia", "kofi", "lena",
         "mateo", "nora", "omar", "priya", "quinn", "rosa", "sven", "tariq", "uma", "viktor", "wen", "yusuf"]
LAST = ["meyer", "novak", "okafor", "petrov", "quispe", "rossi", "sato", "tanaka", "ueda", "varga", "weber", "xu"]


def vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vi", "zo", "pre", "tra", "gon", "del", "mar", "sin",
                 "por", "ber", "lin", "dus", "fen"]
    words, seen = [], set()
    while len(words) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def make_rows(count: int, rng: random.Random):
    """Tickets and their first article as tuples; Zipf-distributed words, 2 years of activity."""
    words = vocabulary(rng)
    weights = [1 / (rank + 1) ** 1.05 for rank in range(len(words))]
    now = datetime(2026, 11, 1)
    tickets, articles = [], []
    batch = 200_000
    for start in range(0, count, batch):
        n = min(batch, count - start)
        body_words = rng.choices(words, weights=weights, k=n * 40)
        subject_words = rng.choices(words, weights=weights, k=n * 4)
        for i in range(n):
            ticket_id = start + i + 1
            created = now - timedelta(seconds=int((count - ticket_id) * (63_072_000 / count)))
            updated = created + timedelta(seconds=rng.randint(0, 86_400 * 20))
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first}.{last}{ticket_id % 997}@example.org"
            title = " ".join(subject_words[i * 4:(i + 1) * 4]) + f" ORD{ticket_id:07d}"
            body = " ".join(body_words[i * 40:(i + 1) * 40])
            owner = rng.randint(1, USERS) if rng.random() < 0.3 else None
            tickets.append((ticket_id, f"{created:%Y%m%d}10{ticket_id:07d}", title, 1 + ticket_id % QUEUES,
                            rng.choice(STATES), rng.choice(PRIORITIES), email, "[]", created, updated, owner))
            articles.append((ticket_id, ticket_id, "email-in", title, email, f"{first.title()} {last.title()}",
                             "support@example.com", "", "", created, body, "{}", created, "", ""))
    return tickets, articles, words


TICKET_COLUMNS = ("id", "number", "title", "queue_id", "state", "priority", "customer", "tags", "created_at",
                  "updated_at", "owner_id")
USER_COLUMNS = ("id", "email", "name", "password_hash", "is_admin", "active", "created_at")
ARTICLE_COLUMNS = ("id", "ticket_id", "kind", "subject", "from_address", "from_name", '"to"', "cc", "reply_to",
                   "date", "body_text", "flags", "created_at", "in_reply_to", '"references"')


def _migration():
    import importlib.util

    path = ROOT / "intake/migrations/versions/0003_web.py"
    spec = importlib.util.spec_from_file_location("migration_0003_web", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(app, count: int, rng: random.Random) -> list[str]:
    """Bulk-load the tickets; returns the vocabulary (by frequency rank)."""
    from intake.extensions import db

    migration = _migration()
    dialect = db.engine.dialect.name
    started = time.perf_counter()
    tickets, articles, words = make_rows(count, rng)
    print(f"  generated {count:,} tickets in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    queue_values = [(i, f"Queue {i}", "", datetime(2026, 1, 1)) for i in range(1, QUEUES + 1)]
    user_values = [(i, f"agent{i}@example.com", f"Agent {i}", "!", i == 1, True, datetime(2026, 1, 1))
                   for i in range(1, USERS + 1)]
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        down, up = (migration.POSTGRES_DOWN, migration.POSTGRES_UP) if dialect == "postgresql" else \
            (migration.SQLITE_DOWN, migration.SQLITE_UP)
        for statement in down:  # the search index is rebuilt in one go after the load
            cursor.execute(statement)
        cursor.execute("DELETE FROM queues")
        if dialect == "postgresql":
            _copy(cursor, "queues", ("id", "name", "comment", "created_at"), queue_values)
            _copy(cursor, "users", USER_COLUMNS, user_values)
            _copy(cursor, "tickets", TICKET_COLUMNS, tickets)
            _copy(cursor, "articles", ARTICLE_COLUMNS, articles)
        else:
            cursor.execute("BEGIN")
            cursor.executemany("INSERT INTO queues (id, name, comment, created_at) VALUES (?,?,?,?)", queue_values)
            cursor.executemany(f"INSERT INTO users ({', '.join(USER_COLUMNS)}) VALUES ({','.join('?' * len(USER_COLUMNS))})",
                               user_values)
            cursor.executemany(f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}) VALUES ({','.join('?' * len(TICKET_COLUMNS))})", tickets)
            cursor.executemany(f"INSERT INTO articles ({', '.join(ARTICLE_COLUMNS)}) VALUES ({','.join('?' * len(ARTICLE_COLUMNS))})", articles)
        raw.commit()
        print(f"  loaded tickets and articles in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        if dialect == "sqlite":
            cursor.execute("BEGIN")
        for statement in up:  # recreate the index and its triggers; the last statement fills it
            cursor.execute(statement)
        raw.commit()
        if dialect == "postgresql":  # the steady state autovacuum keeps: statistics and the visibility map
            raw.driver_connection.autocommit = True
            raw.driver_connection.execute("VACUUM ANALYZE")
            raw.driver_connection.autocommit = False
        else:
            cursor.execute("ANALYZE")
            raw.commit()
        print(f"  built the search index and vacuumed/analyzed in {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        raw.close()
    return words


def _copy(cursor, table: str, columns, rows) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def timed(function, repeat: int) -> list[float]:
    function()  # warm the caches once
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def measure(app, words: list[str], count: int, repeat: int) -> list[tuple[str, list[float], str]]:
    from intake.extensions import db
    from intake.search import matching_ticket_ids
    from intake.web.tickets import ticket_page
    from intake.web.pages import encode_cursor

    rng = random.Random(SEED + 1)
    dialect = db.engine.dialect.name
    admin = SimpleNamespace(is_admin=True, queues=[], id=1)
    agent = SimpleNamespace(is_admin=False, queues=[SimpleNamespace(id=i) for i in (1, 2, 3)], id=2)
    base = {"queue": None, "state": "active", "priority": None, "owner": "", "q": "", "sort": "updated"}

    def page(user=admin, cursor=None, **filters):
        def run():
            result = ticket_page({**base, **filters}, user, cursor() if callable(cursor) else cursor)
            db.session.rollback()
            return result
        return run

    def deep_cursor():  # the cursor of an arbitrary ticket: as deep as page ~count/100
        ticket_id = rng.randint(1, count)
        row = db.session.execute(text("SELECT updated_at, id FROM tickets WHERE id = :id"), {"id": ticket_id}).one()
        return encode_cursor([row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0]), row[1]])

    def baseline():
        db.session.execute(text("SELECT * FROM tickets WHERE id = :id"), {"id": rng.randint(1, count)}).one()
        db.session.rollback()

    rare, medium, common = words[20_000], words[300], words[2]
    matches = {}
    for word in (rare, medium, common):
        matches[word] = db.session.scalar(select(func.count()).select_from(matching_ticket_ids(dialect, word).subquery()))
        db.session.rollback()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1"
        session["_fresh"] = True
    cases = [
        ("baseline: SELECT by primary key", baseline, ""),
        ("list: not closed, latest activity, page 1", page(), ""),
        ("list: deep page (keyset cursor)", page(cursor=deep_cursor), ""),
        ("list: all states, oldest first, deep", page(state="", sort="oldest", cursor=deep_cursor), ""),
        ("list: one queue, state open", page(queue=4, state="open"), ""),
        ("list: highest priority first", page(sort="priority"), ""),
        ("list: agent with 3 of 10 queues", page(user=agent), ""),
        (f"search: rare word ({matches[rare]:,} tickets)", page(state="", q=rare), ""),
        (f"search: medium word ({matches[medium]:,} tickets)", page(state="", q=medium), ""),
        (f"search: common word ({matches[common]:,} tickets)", page(state="", q=common), ""),
        ("search: two words (medium + common)", page(state="", q=f"{medium} {common}"), ""),
        ("search: prefix (4 letters*) of a medium word", page(state="", q=medium[:4] + "*"), ""),
        ("search: common word, not closed, one queue", page(q=common, queue=4), ""),
        ("search: common word, newest tickets first", page(state="", q=common, sort="created"), ""),
        ("search: a customer's order number", page(state="", q=f"ORD{count // 2:07d}"), ""),
        ("http: GET /tickets (query + template)", lambda: client.get("/tickets"), ""),
        (f"http: GET /tickets?q={medium}", lambda: client.get(f"/tickets?state=&q={medium}"), ""),
        ("http: GET / (queue overview counts)", lambda: client.get("/"), ""),
    ]
    results = []
    for name, function, note in cases:
        results.append((name, timed(function, repeat), note))
        print(f"  {name}: done", file=sys.stderr, flush=True)
    return results


def report(dialect: str, count: int, results) -> None:
    base = statistics.median(results[0][1])
    print(f"\n{dialect}: {count:,} tickets — latency in ms (p50 / p95) and p50 as a multiple of the baseline")
    print(f"{'case':<52} {'p50':>8} {'p95':>8} {'x base':>8}")
    for name, samples, _ in results:
        samples = sorted(samples)
        p50 = statistics.median(samples)
        p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
        print(f"{name:<52} {p50:8.2f} {p95:8.2f} {p50 / base:8.1f}")


def run(dialect: str, count: int, repeat: int, keep: Path | None = None) -> None:
    from intake import create_app, migrate
    from intake.extensions import db
    from tests.peers.postgres import PostgresCluster

    workdir = keep or Path(tempfile.mkdtemp(prefix="ik-bench-", dir="/tmp"))
    loaded = keep is not None and (workdir / "bench.sqlite3").exists()
    cluster = None
    try:
        if dialect == "postgresql":
            cluster = PostgresCluster()
            cluster.__enter__()
            cluster.start()
            url = cluster.url("postgres")
        else:
            url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        app = create_app({"TESTING": True, "INSTANCE_PATH": str(workdir / "instance"), "DATABASE_URL": url,
                          "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
        with app.app_context():
            migrate.upgrade()
            from werkzeug.security import generate_password_hash

            if loaded:  # --keep: the database of an earlier run (SQLite only)
                words = vocabulary(random.Random(SEED))
            else:
                print(f"{dialect}: loading {count:,} tickets", flush=True)
                words = load(app, count, random.Random(SEED))
            db.session.execute(text("UPDATE users SET password_hash = :h WHERE id = 1"), {"h": generate_password_hash("x")})
            db.session.commit()
            report(dialect, count, measure(app, words, count, repeat))
            db.session.remove()
            db.engine.dispose()
    finally:
        if cluster is not None:
            cluster.__exit__(None, None, None)
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--keep", type=Path, help="SQLite only: keep the database in this folder and reuse it next time")
    args = parser.parse_args()
    for dialect in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        run(dialect, args.tickets, args.repeat, args.keep if dialect == "sqlite" else None)


if __name__ == "__main__":
    main()
