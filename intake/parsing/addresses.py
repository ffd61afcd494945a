"""Address lists (From, To, Cc, Reply-To, Sender, Return-Path).

A small tolerant tokenizer instead of email.utils.getaddresses, whose
results changed between Python patch releases.  Rules:

* mailboxes are separated by top-level ',' or ';' (Outlook users type ';');
  a group ("team: a@x, b@y;") contributes its members, its name is dropped;
* with an angle address the e-mail is the text inside <> (whitespace and a
  source route stripped) and the display name is the text before it;
* without one, the e-mail is the text with comments removed and the
  display name is the comment: ``foo@bar (Mail Delivery System)``;
* text without '@' and with spaces is a name, not an address (email "");
* e-mails are kept exactly as given (no lowercasing, no IDNA);
* display names are decoded (RFC 2047, also inside quotes, as clients do).
"""
from __future__ import annotations

from .charsets import Note
from .model import Address
from .headers import read_quoted
from .rfc2047 import decode_words

_SPECIAL = '"(<,;:'


def _comment(text: str, pos: int) -> tuple[str, int]:
    """Comment starting at text[pos] == '(' (nesting allowed); (content, end)."""
    depth = 0
    out = []
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and pos + 1 < len(text):
            out.append(text[pos + 1])
            pos += 2
            continue
        if ch == "(":
            depth += 1
            if depth > 1:
                out.append(ch)
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return "".join(out), pos + 1
            out.append(ch)
        else:
            out.append(ch)
        pos += 1
    return "".join(out), pos


def _tokens(text: str) -> list[tuple[str, str, str]]:
    """(kind, value, raw) with kind in: text, quoted, comment, angle, sep, colon."""
    tokens = []
    pos = 0
    n = len(text)
    while pos < n:
        ch = text[pos]
        start = pos
        if ch == '"':
            value, pos = read_quoted(text, pos)
            tokens.append(("quoted", value, text[start:pos]))
        elif ch == "(":
            value, pos = _comment(text, pos)
            tokens.append(("comment", value, ""))
        elif ch == "<":
            end = text.find(">", pos)
            pos = n if end < 0 else end + 1
            tokens.append(("angle", text[start + 1:end if end >= 0 else n], ""))
        elif ch in ",;":
            tokens.append(("sep", ch, ch))
            pos += 1
        elif ch == ":":
            tokens.append(("colon", ch, ch))
            pos += 1
        else:
            while pos < n and text[pos] not in _SPECIAL:
                pos += 1
            tokens.append(("text", text[start:pos], text[start:pos]))
    return tokens


def _clean_name(name: str, note: Note | None) -> str:
    name = " ".join(name.split())
    return " ".join(decode_words(name, note=note, what="address name").split())


def _mailbox(tokens: list[tuple[str, str, str]], note: Note | None) -> Address | None:
    angle = next((i for i, t in enumerate(tokens) if t[0] == "angle"), None)
    if angle is not None:
        email = tokens[angle][1].strip()
        if '"' not in email:
            email = "".join(email.split())  # folding inside <>
        if email.startswith("@") and ":" in email:  # obsolete source route
            email = email.split(":", 1)[1]
        name = "".join(v if k != "comment" else f"({v})" for k, v, _ in tokens[:angle])
        if not name.strip():
            name = " ".join(v.strip() for k, v, _ in tokens[angle:] if k == "comment")
    else:
        spec: list[str] = []  # the addr-spec; whitespace dropped outside quotes
        quoted_names: list[str] = []
        is_address = any("@" in raw_text for kind, _, raw_text in tokens if kind == "text")
        for i, (kind, value, raw_text) in enumerate(tokens):
            if kind == "text":
                spec.append("".join(raw_text.split()) if is_address else raw_text)
            elif kind == "quoted":
                following = tokens[i + 1][2].lstrip() if i + 1 < len(tokens) else ""
                if following.startswith("@"):
                    spec.append(raw_text)  # a quoted local part: "john doe"@example.com
                else:
                    quoted_names.append(value)
        raw = "".join(spec).strip()
        comments = " ".join(v.strip() for k, v, _ in tokens if k == "comment" and v.strip())
        extra = " ".join(quoted_names + ([comments] if comments else []))
        if "@" in raw:
            email, name = raw, extra
        elif raw and not any(c.isspace() for c in raw):
            email, name = raw, extra  # local-only, e.g. MAILER-DAEMON
        else:
            email, name = "", " ".join(filter(None, [raw, extra]))
    name = _clean_name(name, note)
    if not email and not name:
        return None
    return Address(name=name, email=email)


def parse_addresses(text: str, *, note: Note | None = None) -> list[Address]:
    """All mailboxes in an address-list header value (not RFC 2047-decoded)."""
    result: list[Address] = []
    current: list[tuple[str, str, str]] = []
    for token in _tokens(text):
        kind = token[0]
        if kind == "sep":
            box = _mailbox(current, note)
            if box:
                result.append(box)
            current = []
        elif kind == "colon" and not any(t[0] == "angle" for t in current):
            current = []  # group display name ends here
        else:
            current.append(token)
    box = _mailbox(current, note)
    if box:
        result.append(box)
    return result
