"""parse_message: raw bytes in, ParsedMessage out, whatever the bytes are."""
from __future__ import annotations

import re
from urllib.parse import unquote

from . import detection, headers, mime
from .addresses import parse_addresses
from .dates import parse_date
from .html import sanitize
from .htmltext import text_of_clean_html
from .limits import DEFAULT_LIMITS, MAX_DETECTIONS, Budget, ParseLimits
from .model import Address, ParsedMessage
from .msgids import parse_id, parse_ids
from .walk import Collector

_CID = re.compile(r"""cid:([^\s"'<>)]+)""", re.I)
_SENDER_FALLBACKS = ("Sender", "Reply-To", "Return-Path")


def parse_message(raw: bytes, limits: ParseLimits = DEFAULT_LIMITS) -> ParsedMessage:
    """Parse one RFC 5322 message. Never raises: defects go to `problems`."""
    budget = Budget(limits if isinstance(limits, ParseLimits) else DEFAULT_LIMITS)
    message = ParsedMessage()
    token = detection.remaining.set(MAX_DETECTIONS)
    try:
        raw = _as_bytes(raw, budget)
        message.size = len(raw)
        _parse(raw, budget, message)
    except Exception as exc:  # the last line of defence: return what was read
        budget.problem(f"internal parser error ({type(exc).__name__}); message only partly read")
    finally:
        detection.remaining.reset(token)
    message.problems = budget.final_problems()
    message.limit_exceeded = budget.limit_exceeded
    return message


def _as_bytes(raw: object, budget: Budget) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, (bytearray, memoryview)):
        return bytes(raw)
    if isinstance(raw, str):
        budget.problem("message given as text, not bytes; encoded as UTF-8")
        return raw.encode("utf-8", "surrogateescape")
    budget.problem(f"message is not bytes ({type(raw).__name__}); nothing read")
    return b""


def normalize(raw: bytes) -> tuple[bytes, bool]:
    """LF line endings; (buffer, whether bare CR line endings were found)."""
    buf = raw.replace(b"\r\n", b"\n") if b"\r" in raw else raw
    if b"\r" in buf and b"\n" not in buf[:65536]:
        return buf.replace(b"\r", b"\n"), True
    return buf, False


def _parse(raw: bytes, budget: Budget, message: ParsedMessage) -> None:
    limit = budget.limits.max_size
    if len(raw) > limit:
        budget.exceeded(f"message of {len(raw)} bytes is over {limit}; only the first "
                        f"{limit} bytes were read")
        raw = raw[:limit]
    if not raw.strip():
        budget.problem("empty message")
    buf, bare_cr = normalize(raw)
    if bare_cr:
        budget.problem("bare CR line endings")
    root = mime.parse_tree(buf, budget)
    hint = _charset_hint(root)
    # Independent stages: a bug in one must not cost the others their results.
    for stage in (_read_headers, _read_body):
        try:
            stage(root, hint, budget, message)
        except Exception as exc:
            budget.problem(f"internal parser error ({type(exc).__name__}) in {stage.__name__}; "
                           "message only partly read")


def _read_headers(root: mime.Entity, hint: str | None, budget: Budget,
                  message: ParsedMessage) -> None:
    fields = root.fields
    note = budget.problem
    message.headers = [(name, headers.display(value, hint=hint, note=note, what=f"header {name}"))
                       for name, value in fields]
    subject = root.header("subject")
    message.subject = "" if subject is None else headers.display(subject, hint=hint)

    def addresses(name: str) -> list[Address]:
        values = root.index.get(name, ())
        text = ", ".join(headers.to_text(v, hint=hint) for v in values)
        # decoding problems were already reported for the whole header above
        return parse_addresses(text) if text else []

    message.to = addresses("to")
    message.cc = addresses("cc")
    message.reply_to = addresses("reply-to")
    message.from_ = _sender(root, addresses, budget)

    date = root.header("date")
    if date is None:
        budget.problem("missing Date header")
    else:
        message.date = parse_date(headers.to_text(date, hint=hint), note=note)
    msgid = root.header("message-id")
    if msgid is not None:
        message.message_id = parse_id(headers.to_text(msgid, hint=hint))
    message.in_reply_to = _ids(root, "in-reply-to", hint)
    message.references = _ids(root, "references", hint)


def _read_body(root: mime.Entity, hint: str | None, budget: Budget,
               message: ParsedMessage) -> None:
    collector = Collector(budget, hint)
    texts: list[str] = []
    htmls: list[str] = []
    collector.walk(root, texts, htmls)
    raw_html = "\n".join(h for h in htmls if h.strip()) or collector.tnef_html
    if raw_html:
        message.html, too_complex = sanitize(raw_html)
        if too_complex:
            budget.problem("HTML body too deeply nested to render; shown as text")
    text = "\n".join(t.rstrip("\n") for t in texts if t.strip())
    if not text:
        text = text_of_clean_html(message.html) if message.html else collector.tnef_text
    message.text = text.lstrip("\n").rstrip()
    message.attachments = collector.attachments
    if raw_html and message.attachments:
        referenced = {unquote(cid) for cid in _CID.findall(raw_html)}
        for attachment in message.attachments:
            if attachment.content_id and attachment.content_id in referenced:
                attachment.inline = True


def _sender(root: mime.Entity, addresses, budget: Budget) -> Address | None:
    has_from = root.header("from") is not None
    found = addresses("from")
    named_only = next(iter(found), None)
    if any(a.email for a in found):
        return next(a for a in found if a.email)
    for name in _SENDER_FALLBACKS:
        candidates = [a for a in addresses(name.lower()) if a.email]
        if candidates:
            why = "From has no address" if has_from else "missing From header"
            budget.problem(f"{why}; sender taken from {name}")
            return candidates[0]
    budget.problem("no sender address (From, Sender, Reply-To, Return-Path)")
    return named_only


def _ids(root: mime.Entity, name: str, hint: str | None) -> list[str]:
    values = root.index.get(name)
    return parse_ids(" ".join(headers.to_text(v, hint=hint) for v in values)) if values else []


def _charset_hint(root: mime.Entity) -> str | None:
    """Charset of the first text part: the best guess for raw 8-bit headers."""
    stack = [root]
    while stack:
        entity = stack.pop()
        charset = entity.params.get("charset")
        if charset and entity.ctype.startswith("text/"):
            return charset
        stack.extend(reversed(entity.children))
    return None
