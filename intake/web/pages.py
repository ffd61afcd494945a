"""Keyset pagination: "the next N rows after this one", fast however deep the page.

A cursor is the sort key of the last row shown, as URL-safe base64 JSON; the next
page is ``WHERE (k1, k2, …) < (cursor)`` (or ``>`` ascending) in the order of an
index that starts with those columns, so the database reads only the rows it shows.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from flask import abort, request
from sqlalchemy import Select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db


@dataclass
class Page:
    items: list
    next_cursor: str | None = None
    first: bool = True


def encode_cursor(values) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, columns) -> list:
    """The cursor's values, typed like ``columns``; a malformed cursor is a 400, never a traceback."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(columns):
            raise ValueError("wrong length")
        values = []
        for column, value in zip(columns, raw):
            python_type = column.type.python_type
            if python_type is datetime:
                values.append(datetime.fromisoformat(value))
            elif python_type is int:
                values.append(int(value))
            else:
                values.append(str(value))
        return values
    except (ValueError, TypeError, NotImplementedError, json.JSONDecodeError):
        abort(400, "This page link is damaged; start again from the first page.")


def keyset_query(query: Select, columns: list[ColumnElement], descending: bool, cursor: str | None) -> Select:
    if cursor:
        values = decode_cursor(cursor, columns)
        key = tuple_(*columns)
        query = query.where(key < tuple_(*values) if descending else key > tuple_(*values))
    return query.order_by(*[c.desc() if descending else c.asc() for c in columns])


def keyset_page(query: Select, *columns: ColumnElement, size: int, descending: bool = True,
                cursor: str | None = None) -> Page:
    """One page of ``query`` ordered by ``columns``; reads the cursor from ``?after=`` by default."""
    cursor = cursor if cursor is not None else request.args.get("after") or None
    rows = list(db.session.scalars(keyset_query(query, list(columns), descending, cursor).limit(size + 1)))
    page = Page(items=rows[:size], first=not cursor)
    if len(rows) > size:
        last = rows[size - 1]
        page.next_cursor = encode_cursor([getattr(last, c.key) for c in columns])
    return page
