"""Full-text search over tickets: subject, title, sender and body of every article.

The index lives in the database and is maintained there by triggers (migration
``0003_web``), so every path that stores an article (collection, import, notes, a
bulk load) keeps it current without calling anything:

* SQLite: an FTS5 table ``ticket_fts`` with one row per ticket (rowid = ticket id),
  columns ``title``, ``sender``, ``body``; each new article appends its sender and
  subject + body (the first 20,000 characters) to its ticket's row.
* PostgreSQL: a table ``ticket_search(ticket_id, document tsvector)`` with a GIN
  index, same content, configuration ``simple`` (no stemming: mail is multilingual).

Both sides split words the same way (``@``, ``.`` and ``/`` are separators, so
``anna@example.org`` is found by ``anna``); a query matches tickets that contain
every word; a word ending in ``*`` (at least 3 characters before it) also matches as a
prefix (``print*`` finds ``printer``).

How a search joins the list (the list keeps its order, filters and keyset pages): a
database planner cannot know how many tickets a word matches, and the best plan differs
by orders of magnitude (PostgreSQL's estimate for a rare word made it walk the whole list
index: 2.4 s at a million tickets). So :func:`apply` reads the matching ids first, up
to ``DENSE_MATCHES``:

* fewer ("sparse", the usual case): the list is restricted to exactly those ids,
  which the database fetches by primary key;
* that many or more ("dense": a word in 2 % or more of a million tickets): walking the
  list's own index and checking each ticket (``EXISTS`` on the search row of that
  ticket) fills a page after a few dozen rows. SQLite prefix queries stay with the
  full list of matches there (a per-row FTS5 probe would expand the prefix each time).

The ORM does not model these objects; :func:`include_object` keeps Alembic's
schema comparison (``tests/test_migrations.py``) from reporting them.
"""
from __future__ import annotations

import re

from sqlalchemy import ARRAY, Integer, Select, any_, bindparam, false, select, text

from .models import Ticket

#: Tables the migration creates outside the ORM (FTS5 adds its shadow tables).
UNMODELED_TABLES = {"ticket_search", "ticket_fts"}
#: Words of a query that are used (the rest is ignored).
MAX_QUERY_WORDS = 8
#: A word ending in * matches as a prefix once it has this many characters.
PREFIX_MIN_LENGTH = 3
#: From this many matching tickets on, probe per ticket instead of listing the matches (see above).
DENSE_MATCHES = 20_000
_WORD = re.compile(r"([^\W_]+)(\*?)")
_TICKET_NUMBER = re.compile(r"^\s*(?:#|ticket#?\s*)?(\d{10,20})\s*$", re.IGNORECASE)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic filter: ignore the search index, which the ORM does not model."""
    if type_ == "table":
        return not any(name == t or name.startswith(t + "_") for t in UNMODELED_TABLES)
    return True


def terms(query: str) -> list[tuple[str, bool]]:
    """(word, is_prefix) pairs of a query, lower-case."""
    found = [(w.lower(), bool(star) and len(w) >= PREFIX_MIN_LENGTH) for w, star in _WORD.findall(query or "")]
    return found[:MAX_QUERY_WORDS]


def ticket_number(query: str) -> str | None:
    """A query that is just a ticket number (optionally ``#`` or ``Ticket#`` before it)."""
    match = _TICKET_NUMBER.match(query or "")
    return match.group(1) if match else None


def sqlite_match(parts: list[tuple[str, bool]]) -> str:
    return " ".join(f'"{w}"*' if prefix else f'"{w}"' for w, prefix in parts)


def pg_tsquery(parts: list[tuple[str, bool]]) -> str:
    return " & ".join(f"{w}:*" if prefix else w for w, prefix in parts)


def matching_ticket_ids(dialect: str, query: str):
    """A subquery of the ids of tickets matching ``query`` (None: the query has no words)."""
    parts = terms(query)
    if not parts:
        return None
    if dialect == "postgresql":
        return select(text("ticket_id")).select_from(text("ticket_search")).where(
            text("document @@ to_tsquery('simple', :tsq)").bindparams(tsq=pg_tsquery(parts))
        )
    return select(text("rowid")).select_from(text("ticket_fts")).where(
        text("ticket_fts MATCH :fts").bindparams(fts=sqlite_match(parts))
    )


def apply(query: Select, session, search: str) -> Select:
    """Restrict a ticket query to tickets matching ``search`` (a ticket number matches that ticket)."""
    number = ticket_number(search)
    if number:
        return query.where(Ticket.number == number)
    parts = terms(search)
    if not parts:
        return query.where(false())
    dialect = session.get_bind().dialect.name
    ids = matching_ticket_ids(dialect, search)
    found = list(session.scalars(ids.limit(DENSE_MATCHES)))
    if len(found) < DENSE_MATCHES:
        if dialect == "postgresql":  # one array parameter, however many ids
            return query.where(Ticket.id == any_(bindparam("search_ids", found, type_=ARRAY(Integer))))
        return query.where(Ticket.id.in_(found))
    if dialect == "postgresql":
        return query.where(text("EXISTS (SELECT 1 FROM ticket_search s WHERE s.ticket_id = tickets.id "
                                "AND s.document @@ to_tsquery('simple', :dense))").bindparams(dense=pg_tsquery(parts)))
    if any(prefix for _, prefix in parts):
        return query.where(Ticket.id.in_(ids.scalar_subquery()))
    return query.where(text("EXISTS (SELECT 1 FROM ticket_fts WHERE ticket_fts MATCH :dense "
                            "AND ticket_fts.rowid = tickets.id)").bindparams(dense=sqlite_match(parts)))
