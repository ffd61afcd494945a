"""Ticket fields set by trusted X-Intake-* headers and by filter rules: one validation for both. Pure."""
from __future__ import annotations

STATES = ("new", "open", "pending", "closed")
PRIORITY_WORDS = {"very low": 1, "low": 2, "normal": 3, "high": 4, "very high": 5}
TRUE_WORDS = {"1", "yes", "true", "on"}
#: Fields a trusted header or a rule may set (``ignore`` and ``loop`` are handled by routing).
SETTABLE = ("queue", "priority", "state", "title", "owner", "customer", "tags")


def truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE_WORDS


def priority_value(value) -> int | None:
    text = str(value).strip().lower()
    if text.isdigit() and 1 <= int(text) <= 5:
        return int(text)
    return PRIORITY_WORDS.get(text)


def validate(name: str, value, queues: set[str]) -> tuple[object | None, str | None]:
    """(the value to set, None) or (None, why it was refused)."""
    if name == "queue":
        value = str(value).strip()
        return (value, None) if value in queues else (None, f"unknown queue {value!r}: normal dispatch kept")
    if name == "priority":
        number = priority_value(value)
        return (number, None) if number else (None, f"priority {value!r} is not 1-5 or a priority name")
    if name == "state":
        state = str(value).strip().lower()
        return (state, None) if state in STATES else (None, f"state {value!r} is not one of {', '.join(STATES)}")
    if name == "tags":
        tags = value if isinstance(value, list) else str(value).split(",")
        tags = [t.strip() for t in tags if t and t.strip()]
        return (tags, None) if tags else (None, "no tags given")
    if name in ("owner", "customer"):
        address = str(value).strip()
        return (address, None) if "@" in address else (None, f"{name} {value!r} is not an e-mail address")
    if name == "title":
        title = str(value).strip()
        return (title[:1000], None) if title else (None, "empty title")
    return None, f"{name} cannot be set"
