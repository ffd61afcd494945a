"""Message identifiers: Message-ID, In-Reply-To, References.

Ids are returned without the angle brackets, whitespace (folding inside an
id happens) removed, duplicates dropped, order kept.  Text outside angle
brackets (comments, "Your message of ...") is ignored; a value without any
brackets is read as whitespace-separated ids containing '@'.
"""
from __future__ import annotations

import re

_BRACKETED = re.compile(r"<([^<>]*)>")


def parse_ids(value: str) -> list[str]:
    """All message ids in a header value, in order, without <>."""
    found = _BRACKETED.findall(value)
    if found:
        ids = ["".join(item.split()) for item in found]
    else:
        ids = [token.strip(",;") for token in value.split() if "@" in token]
    seen: set[str] = set()
    out = []
    for item in ids:
        if item and item not in seen:
            seen.add(item)
            out.append(item)
    return out


def parse_id(value: str) -> str | None:
    """The one id of a Message-ID header (the first, if there are several)."""
    ids = parse_ids(value)
    if ids:
        return ids[0]
    tokens = value.replace("<", " ").replace(">", " ").split()
    return tokens[0] if tokens else None
