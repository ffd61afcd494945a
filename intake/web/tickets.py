"""What support staff see first: the queue overview and the ticket list (filters, search, sort, keyset pages)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, select

from .. import search
from ..extensions import db
from ..models import Queue, Ticket, User
from .pages import Page, encode_cursor, keyset_query
from .security import can_see_queue, restrict_to_visible, visible_queue_ids
from .ui import STATES

bp = Blueprint("tickets", __name__)

PAGE_SIZE = 50
#: Counts on the queue overview stop here ("1000+").
COUNT_CAP = 1000
ACTIVE_STATES = ("new", "open", "pending")
#: name -> (key columns, descending, label). Each has an index starting with its columns.
SORTS = {
    "updated": ((Ticket.updated_at, Ticket.id), True, "Latest activity"),
    "created": ((Ticket.id,), True, "Newest tickets"),
    "oldest": ((Ticket.updated_at, Ticket.id), False, "Oldest activity"),
    "priority": ((Ticket.priority, Ticket.updated_at, Ticket.id), True, "Highest priority"),
}
STATE_FILTERS = {"active": "Not closed", "": "Any state", **{s: s.capitalize() for s in STATES}}


def visible_queues() -> list[Queue]:
    query = select(Queue).order_by(Queue.name)
    visible = visible_queue_ids(current_user)
    if visible is not None:
        query = query.where(Queue.id.in_(sorted(visible) or [-1]))
    return list(db.session.scalars(query))


def capped_count(query, cap: int) -> int:
    """count(*) of ``query`` that stops reading at ``cap`` rows (an index range scan of at most cap entries)."""
    return db.session.scalar(select(func.count()).select_from(query.limit(cap).subquery()))


@bp.get("/")
@login_required
def queues():
    """Per queue: new/open/pending tickets, each count read from an index and capped at COUNT_CAP
    (a queue with 200,000 open tickets shows "1000+" instead of costing a scan of them)."""
    queues = visible_queues()
    counts = {queue.id: {state: capped_count(select(Ticket.id).where(Ticket.queue_id == queue.id, Ticket.state == state),
                                             COUNT_CAP) for state in ACTIVE_STATES} for queue in queues}
    mine = capped_count(restrict_to_visible(select(Ticket.id).where(
        Ticket.owner_id == current_user.id, Ticket.state.in_(ACTIVE_STATES)), current_user), COUNT_CAP)
    totals = {state: sum(c[state] for c in counts.values()) for state in ACTIVE_STATES}
    return render_template("tickets/queues.html", queues=queues, counts=counts, totals=totals, mine=mine,
                           cap=COUNT_CAP)


def list_filters(args) -> dict:
    filters = {
        "queue": args.get("queue", type=int),
        "state": args.get("state", "active"),
        "priority": args.get("priority", type=int),
        "owner": args.get("owner", ""),
        "q": (args.get("q") or "").strip()[:200],
        "sort": args.get("sort", "updated"),
    }
    if filters["sort"] not in SORTS:
        filters["sort"] = "updated"
    if filters["state"] not in STATE_FILTERS:
        filters["state"] = "active"
    return filters


def ticket_query(filters: dict, user: User):
    """The filtered, access-restricted ticket query (not yet ordered or paged)."""
    query = restrict_to_visible(select(Ticket), user)
    if filters["queue"]:
        if not can_see_queue(user, filters["queue"]):
            abort(403)
        query = query.where(Ticket.queue_id == filters["queue"])
    if filters["state"] == "active":
        query = query.where(Ticket.state.in_(ACTIVE_STATES))
    elif filters["state"]:
        query = query.where(Ticket.state == filters["state"])
    if filters["priority"]:
        query = query.where(Ticket.priority == filters["priority"])
    if filters["owner"] == "me":
        query = query.where(Ticket.owner_id == user.id)
    elif filters["owner"] == "none":
        query = query.where(Ticket.owner_id.is_(None))
    if filters["q"]:
        query = search.apply(query, db.session, filters["q"])
    return query


def ticket_page(filters: dict, user: User, cursor: str | None, size: int = PAGE_SIZE) -> Page:
    columns, descending, _ = SORTS[filters["sort"]]
    query = keyset_query(ticket_query(filters, user), list(columns), descending, cursor)
    rows = list(db.session.scalars(query.limit(size + 1)))
    page = Page(items=rows[:size], first=not cursor)
    if len(rows) > size:
        page.next_cursor = encode_cursor([getattr(rows[size - 1], c.key) for c in columns])
    return page


@bp.get("/tickets")
@login_required
def index():
    filters = list_filters(request.args)
    page = ticket_page(filters, current_user, request.args.get("after") or None)
    queues = visible_queues()
    owners = {u.id: u for u in db.session.scalars(select(User))}
    template = "tickets/_rows.html" if request.headers.get("HX-Request") else "tickets/list.html"
    return render_template(template, page=page, filters=filters, queues=queues,
                           queue_names={q.id: q.name for q in queues}, owners=owners,
                           sorts={k: v[2] for k, v in SORTS.items()}, state_filters=STATE_FILTERS)
