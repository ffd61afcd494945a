"""Text bodies: transfer decoding, charset decoding, line endings and
format=flowed (RFC 3676, including DelSp=yes).
"""
from __future__ import annotations

import re

from . import charsets, transfer
from .limits import Budget
from .mime import Entity

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.+-]+)""", re.I)


def payload(entity: Entity, budget: Budget, what: str) -> bytes | None:
    """The transfer-decoded body, or None when the decoded budget is spent."""
    data = transfer.decode(entity.body, entity.cte, note=budget.problem, what=what)
    if not budget.take_decoded(len(data), what):
        return None
    return data


def newlines(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def decode_text(entity: Entity, budget: Budget) -> str:
    """A text/plain body part as text."""
    what = "text/plain body"
    data = payload(entity, budget, what)
    if data is None:
        return ""
    text = newlines(charsets.decode(data, entity.params.get("charset"), note=budget.problem,
                                    what=what))
    if entity.params.get("format", "").strip().lower() == "flowed":
        delsp = entity.params.get("delsp", "").strip().lower() == "yes"
        text = unflow(text, delsp)
    return text


def decode_html(entity: Entity, budget: Budget) -> str:
    """A text/html body part as (unsanitized) text."""
    what = "text/html body"
    data = payload(entity, budget, what)
    if data is None:
        return ""
    charset = entity.params.get("charset")
    if not charset:
        match = _META_CHARSET.search(data[:4096])
        if match:
            charset = match.group(1).decode("ascii")
    return newlines(charsets.decode(data, charset, note=budget.problem, what=what))


def unflow(text: str, delsp: bool = False) -> str:
    """Undo format=flowed: join soft-broken lines, keep quote depth.

    A line ending in a space is continued by the next line of the same quote
    depth (with DelSp=yes that trailing space is removed); the signature
    separator '-- ' is never flowed; space-stuffing is removed.
    """
    out: list[str] = []
    para: list[str] = []
    para_depth = -1

    def flush() -> None:
        nonlocal para, para_depth
        if para_depth >= 0:
            prefix = ">" * para_depth + (" " if para_depth else "")
            out.append(prefix + "".join(para))
        para, para_depth = [], -1

    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing (or the space after '>')
        if para_depth >= 0 and depth != para_depth:
            flush()  # quote depth changed: the flowed paragraph ends here
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        para.append(content)
        para_depth = depth
        if not flowed:
            flush()
    flush()
    return "\n".join(out)
