"""The Date header: RFC 5322 dates (and common broken variants) to aware
datetimes.  A date without a zone (or with -0000) is taken as UTC; an
impossible zone offset is recorded as a problem and replaced by UTC.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz

from .charsets import Note


def parse_date(value: str, *, note: Note | None = None) -> datetime | None:
    """Aware datetime for a Date header value, or None (problem noted)."""
    value = value.strip()
    if not value:
        return None
    try:
        parts = parsedate_tz(value)
    except Exception:  # parsedate_tz has raised on odd input in past releases
        parts = None
    if parts is None:
        return _iso(value, note)
    year, month, day, hour, minute, second = parts[:6]
    offset = parts[9]
    zone = UTC
    if offset:
        try:
            zone = timezone(timedelta(seconds=offset))
        except (ValueError, OverflowError):
            if note:
                note(f"Date: impossible time zone offset in {value[:60]!r}; UTC assumed")
    try:
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=zone)
    except (ValueError, OverflowError, TypeError):
        if note:
            note(f"Date: impossible date {value[:60]!r}")
        return None


def _iso(value: str, note: Note | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        if note:
            note(f"Date: unreadable date {value[:60]!r}")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
