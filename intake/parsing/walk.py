"""Choosing the body among the MIME parts and collecting the attachments.

* A leaf text/plain or text/html part is body text unless it is an
  attachment (Content-Disposition: attachment, or it has a file name).
  Several body parts (mailing-list footers, Apple Mail's text around inline
  images) are joined in order.
* multipart/alternative: the plain text comes from the first alternative
  that has any, the HTML from the last one that has any; other renderings
  (text/enriched, text/rtf, AMP) are dropped, but every attachment in any
  alternative (calendar invites, related images) is kept.
* multipart/related: the root part (the 'start' parameter, else the first)
  gives the body; the other parts are attachments (usually cid: images).
* every other multipart (mixed, report, signed, digest, unknown) is read as
  mixed.
* message/rfc822 parts are kept whole as an .eml attachment and not
  descended into; winmail.dat is unpacked (see tnef.py).
"""
from __future__ import annotations

from . import attachments, bodies, tnef
from .limits import Budget
from .mime import Entity
from .model import ParsedAttachment

_ALTERNATIVE_ONLY = {"text/enriched", "text/richtext", "text/rtf", "text/x-amp-html",
                     "application/rtf"}


class Collector:
    """Walks a parsed tree; fills texts, htmls and attachments."""

    def __init__(self, budget: Budget, hint: str | None) -> None:
        self.budget = budget
        self.hint = hint
        self.attachments: list[ParsedAttachment] = []
        self.tnef_text = ""
        self.tnef_html = ""

    def walk(self, entity: Entity, texts: list[str], htmls: list[str]) -> None:
        if not entity.parsed:
            return  # never read: the part limit was hit before it
        ctype = entity.ctype
        if ctype.startswith("multipart/"):
            if ctype == "multipart/alternative":
                self._alternative(entity, texts, htmls)
            elif ctype == "multipart/related":
                self._related(entity, texts, htmls)
            else:
                for child in entity.children:
                    self.walk(child, texts, htmls)
            return
        if ctype in ("text/plain", "text/html") and not self._is_attachment(entity):
            if ctype == "text/plain":
                texts.append(bodies.decode_text(entity, self.budget))
            else:
                htmls.append(bodies.decode_html(entity, self.budget))
            return
        self.attach(entity)

    def _is_attachment(self, entity: Entity) -> bool:
        if entity.disposition == "attachment":
            return True
        if entity.depth == 0:  # a single-part message is its own body, named or not
            return False
        return bool(entity.dparams.get("filename") or entity.params.get("name"))

    def _alternative(self, entity: Entity, texts: list[str], htmls: list[str]) -> None:
        found: list[tuple[list[str], list[str]]] = []
        for child in entity.children:
            if (child.parsed and child.ctype in _ALTERNATIVE_ONLY
                    and not self._is_attachment(child)):
                continue
            child_texts: list[str] = []
            child_htmls: list[str] = []
            self.walk(child, child_texts, child_htmls)
            found.append((child_texts, child_htmls))
        with_text = [t for t, _ in found if any(s.strip() for s in t)]
        with_html = [h for _, h in found if any(s.strip() for s in h)]
        if with_text:
            texts.extend(with_text[0])
        if with_html:
            htmls.extend(with_html[-1])

    def _related(self, entity: Entity, texts: list[str], htmls: list[str]) -> None:
        children = entity.children
        if not children:
            return
        root_index = 0
        start = entity.params.get("start", "").strip().strip("<>")
        if start:
            for index, child in enumerate(children):
                if child.parsed and attachments.content_id(child) == start:
                    root_index = index
                    break
        for index, child in enumerate(children):
            if index == root_index or child.ctype.startswith("multipart/"):
                self.walk(child, texts, htmls)
            elif child.parsed:
                self.attach(child)

    def attach(self, entity: Entity) -> None:
        index = len(self.attachments) + 1
        filename = attachments.given_name(entity, self.hint, self.budget)
        what = f"attachment {filename or index}"
        data = bodies.payload(entity, self.budget, what)
        if data is None:
            return
        if tnef.is_tnef(entity.ctype, filename, data):
            if self._unpack_tnef(data):
                return
        self.attachments.append(attachments.make(entity, data, filename, index, hint=self.hint))

    def _unpack_tnef(self, data: bytes) -> bool:
        """Add winmail.dat's files; False to keep winmail.dat itself."""
        unpacked = tnef.unpack(data)
        if unpacked.problem:
            self.budget.problem(unpacked.problem)
            return False
        self.tnef_text = self.tnef_text or unpacked.text
        self.tnef_html = self.tnef_html or unpacked.html
        if not unpacked.files:
            return False
        for name, payload in unpacked.files:
            if self.budget.take_decoded(len(payload), f"winmail.dat file {name}"):
                index = len(self.attachments) + 1
                self.attachments.append(attachments.from_bytes(name, payload, index))
        return True
