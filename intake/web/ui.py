"""Template helpers: dates, sizes, priorities, states, and which optional areas exist."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, request, url_for

from ..models import TicketState, utcnow
from ..models.ticket import PRIORITY_NAMES

STATES = [state.value for state in TicketState]
STATE_LABELS = {"new": "New", "open": "Open", "pending": "Pending", "closed": "Closed"}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(dt=format_datetime, ago=ago, filesize=filesize, priority=priority_name)
    app.jinja_env.globals.update(
        STATES=STATES, STATE_LABELS=STATE_LABELS, PRIORITIES=PRIORITY_NAMES, has_endpoint=has_endpoint,
        page_url=page_url,
    )


def format_datetime(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def ago(value: datetime | None) -> str:
    """"3 min ago", "in 5 min": short and relative; exact times are in the title attribute."""
    if value is None:
        return "—"
    seconds = int((utcnow() - value).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 45:
        text = "just now" if not future else "in a moment"
        return text
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = f"{round(seconds / size)} {unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return value.isoformat()


def filesize(size: int | None) -> str:
    if size is None:
        return "—"
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def priority_name(value: int) -> str:
    return PRIORITY_NAMES.get(value, str(value))


def has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


def page_url(after: str | None) -> str:
    """This page's URL with the same filters and another keyset cursor (None: the first page)."""
    args = {k: v for k, v in request.args.items() if k != "after" and v != ""}
    if after:
        args["after"] = after
    return url_for(request.endpoint, **(request.view_args or {}), **args)
