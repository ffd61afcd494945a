"""The parser's result types: what the rest of Intake sees of a message."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Address:
    """One mailbox: decoded display name and the address exactly as given."""

    name: str
    email: str

    def to_json(self) -> dict:
        return {"name": self.name, "email": self.email}


@dataclass
class ParsedAttachment:
    """One attachment (or inline part) with its decoded payload."""

    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool
    content_id: str | None
    data: bytes = field(repr=False)

    def to_json(self) -> dict:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "inline": self.inline,
            "content_id": self.content_id,
        }


@dataclass
class ParsedMessage:
    """Everything read from one raw message. Built only by parse_message."""

    subject: str = ""
    from_: Address | None = None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    date: datetime | None = None
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str | None = None
    attachments: list[ParsedAttachment] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    size: int = 0
    problems: list[str] = field(default_factory=list)
    limit_exceeded: bool = False

    def _index(self) -> dict[str, list[str]]:
        """Header values by lower-case name, built once (routing asks for many headers)."""
        index = self.__dict__.get("_header_index")
        if index is None or self.__dict__.get("_indexed_count") != len(self.headers):
            index = {}
            for key, value in self.headers:
                index.setdefault(key.lower(), []).append(value)
            self.__dict__["_header_index"], self.__dict__["_indexed_count"] = index, len(self.headers)
        return index

    def header(self, name: str) -> list[str]:
        """All values of header `name` (case-insensitive), in order."""
        return list(self._index().get(name.lower(), ()))

    def first_header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        values = self._index().get(name.lower())
        return values[0] if values else None

    def to_json(self) -> dict:
        """A JSON-able summary (attachment payloads and raw headers left out)."""
        return {
            "subject": self.subject,
            "from_address": self.from_.email if self.from_ else None,
            "from_name": self.from_.name if self.from_ else None,
            "to": [a.to_json() for a in self.to],
            "cc": [a.to_json() for a in self.cc],
            "reply_to": [a.to_json() for a in self.reply_to],
            "date": self.date.isoformat() if self.date else None,
            "message_id": self.message_id,
            "in_reply_to": list(self.in_reply_to),
            "references": list(self.references),
            "text": self.text,
            "html": self.html,
            "attachments": [a.to_json() for a in self.attachments],
            "problems": list(self.problems),
            "limit_exceeded": self.limit_exceeded,
        }
